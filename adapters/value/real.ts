// Reads a number from a file such as /sys/class/thermal/thermal_zone0/temp.
import { readFile } from 'node:fs/promises';
import type { ValueSource, ValueSourceOptions } from './types.ts';

export class FileValueSource implements ValueSource {
  constructor(readonly options: Pick<ValueSourceOptions, 'path' | 'scale' | 'offset'>) {}

  get description(): string {
    return this.options.path;
  }

  async read(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.options.path, 'utf8');
    } catch (err) {
      throw new Error(`value source ${this.options.path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
    }
    const raw = Number(text.trim());
    if (!Number.isFinite(raw)) throw new Error(`value source ${this.options.path}: "${text.trim().slice(0, 40)}" is not a number`);
    return raw * this.options.scale + this.options.offset;
  }
}
