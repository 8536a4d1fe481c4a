/**
 * Reading a PIN: from SEALPOST_PIN (scripts) or a prompt on the terminal with
 * the typed characters hidden. Never echoed, never logged.
 */
import { createInterface } from 'node:readline';
import { UsageError } from './usage-error.js';

export async function readPin(question = 'PIN: ', options: { ignoreEnv?: boolean } = {}): Promise<string> {
  const fromEnv = options.ignoreEnv ? undefined : process.env.SEALPOST_PIN;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new UsageError('no PIN: set SEALPOST_PIN or run in a terminal');
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    let prompted = false;
    out._writeToOutput = (s: string) => {
      // Show the question once; hide every typed character.
      if (!prompted) {
        process.stderr.write(s);
        prompted = true;
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
