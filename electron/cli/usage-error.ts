/** A wrong command line: exit status 2 and a hint to run `sealpost help`. */
export class UsageError extends Error {}
