import { createInterface } from 'node:readline';

/**
 * Asks questions on the terminal (stderr) and reads one line per question; `secret` answers are not
 * echoed. Lines typed ahead are queued, not lost.
 */
export async function promptAll(questions: { text: string; secret: boolean }[]): Promise<string[]> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  const original = out._writeToOutput.bind(rl);
  let secret = false;
  out._writeToOutput = (s: string) => {
    if (!secret) return original(s);
    if (s.includes('\n')) original('\n');
  };
  const queue: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  rl.on('line', (line) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(line);
    } else queue.push(line);
  });
  const answers: string[] = [];
  try {
    for (const q of questions) {
      process.stderr.write(q.text);
      secret = q.secret;
      answers.push(queue.length ? queue.shift()! : await new Promise<string>((resolve, reject) => {
        waiting = resolve;
        rl.once('close', () => reject(Object.assign(new Error('no answer on the terminal'), { code: 'ERR_USAGE' })));
        rl.once('SIGINT', () => reject(Object.assign(new Error('interrupted'), { code: 'ERR_INTERRUPTED' })));
      }));
      if (secret) process.stderr.write('\n');
      secret = false;
    }
  } finally {
    rl.close();
  }
  return answers;
}
