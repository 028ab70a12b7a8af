/**
 * Thrown by an event handler that refuses the event itself (not a passing failure): the consumer
 * dead-letters it at once with this reason, instead of retrying what can never succeed.
 */
export class EventRefusedError extends Error {
  /** Short machine-readable cause, the start of the dead letter's reason (`<code>: <message>`). */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "EventRefusedError";
    this.code = code;
  }
}
