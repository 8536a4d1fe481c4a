/**
 * The errors a store adapter throws for a write the database refused.
 */

/** A unique constraint refused the write. */
export class UniqueViolation extends Error {
  constructor(message = 'already exists') {
    super(message);
    this.name = 'UniqueViolation';
  }
}

/** The row a write depends on is gone (e.g. a key deleted while a message was being sent to it). */
export class MissingRow extends Error {
  constructor(message = 'not found') {
    super(message);
    this.name = 'MissingRow';
  }
}
