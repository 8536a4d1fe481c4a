/**
 * Recovery words: the 256-bit recovery seed written as 24 BIP-39 English words
 * (the seed IS the BIP-39 entropy; the last word carries an 8-bit checksum).
 * Words are matched case-insensitively with any whitespace between them.
 * @module
 */
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { checkBytes } from './_bytes.js';
import { InvalidInputError } from './errors.js';
import { SEED_LENGTH } from './seed.js';

export const RECOVERY_WORD_COUNT = 24;

/** @throws {InvalidInputError} seed not 32 bytes */
export function seedToWords(seed: Uint8Array): string[] {
  checkBytes(seed, 'seed', SEED_LENGTH);
  return entropyToMnemonic(seed, wordlist).split(' ');
}

/**
 * The seed the words stand for.
 * @throws {InvalidInputError} not 24 words, a word not in the list (named), or a wrong checksum
 */
export function wordsToSeed(words: string | readonly string[]): Uint8Array {
  const list = (typeof words === 'string' ? words.trim().split(/\s+/) : [...words]).map((w) => w.trim().toLowerCase()).filter(Boolean);
  if (list.length !== RECOVERY_WORD_COUNT) throw new InvalidInputError(`recovery words: expected 24 words, got ${list.length}`);
  const unknown = list.findIndex((w) => !wordlist.includes(w));
  if (unknown >= 0) throw new InvalidInputError(`recovery words: word ${unknown + 1} ("${list[unknown]}") is not in the word list`);
  try {
    return new Uint8Array(mnemonicToEntropy(list.join(' '), wordlist));
  } catch {
    throw new InvalidInputError('recovery words: the checksum does not match (a word is wrong or out of order)');
  }
}
