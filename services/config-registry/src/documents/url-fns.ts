/** A URL safe to show and log: any `user:password@` removed (a Git remote may carry a token). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/, "$1");
}
