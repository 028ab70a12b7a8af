import { BadRequestError } from "../errors.js";

/**
 * A command served on `<root>.>` is addressed to `<root>.<token>.<namespace>`. NATS permissions
 * grant subjects, not bodies: the body must name the same target as the subject, or a client
 * allowed only on its own subject could act on another namespace by naming it in the body.
 *
 * `root` is the prefixed root (`nexus.config.cmd.get`); `expected` lists the body's fields in the
 * order their values appear in the subject. Throws 400 `subject_mismatch` with the first field
 * that differs.
 */
export function assertSubjectMatchesBody(
  root: string,
  subject: string,
  expected: ReadonlyArray<readonly [field: string, value: string]>,
): void {
  // Built only for an error: this runs for every read a fleet of clients makes.
  const shape = () => `${root}.${expected.map(([field]) => `<${field}>`).join(".")}`;
  if (subject.length <= root.length || subject[root.length] !== "." || !subject.startsWith(root)) {
    throw new BadRequestError("subject_mismatch", `this command is sent to ${shape()}`, {
      field: "subject",
    });
  }
  const tokens = subject.slice(root.length + 1).split(".");
  if (tokens.length !== expected.length) {
    throw new BadRequestError("subject_mismatch", `this command is sent to ${shape()}`, {
      field: "subject",
    });
  }
  for (let i = 0; i < expected.length; i++) {
    const [field, value] = expected[i]!;
    if (tokens[i] !== value) {
      throw new BadRequestError(
        "subject_mismatch",
        `the subject names ${field} "${tokens[i]}" but the body names "${value}"; send to ${shape()} with the same ${field} in both`,
        { field },
      );
    }
  }
}
