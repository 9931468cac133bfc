/** A one-line spinner for terminals; lines written meanwhile appear above it. */

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const INTERVAL_MS = 80;

/** Keeps a spinner on the last line of a terminal while other output scrolls above it. */
export class Spinner {
  private text?: string;
  private frame = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly write: (text: string) => void,
    private readonly paint: (text: string) => string = (text) => text,
  ) {}

  /** Shows (or updates) the spinner with this text. */
  start(text: string): void {
    this.text = text;
    this.draw();
    // Unref'd: a spinner must never keep the process alive.
    this.timer ??= setInterval(() => {
      this.frame = (this.frame + 1) % FRAMES.length;
      this.draw();
    }, INTERVAL_MS).unref();
  }

  /** Removes the spinner line. */
  stop(): void {
    if (this.text === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.text = undefined;
    this.write("\r\u001b[2K");
  }

  get active(): boolean {
    return this.text !== undefined;
  }

  /** Writes complete lines above the spinner. */
  print(text: string): void {
    if (this.text === undefined) return this.write(text);
    this.write("\r\u001b[2K" + text);
    this.draw();
  }

  private draw(): void {
    if (this.text === undefined) return;
    this.write(`\r\u001b[2K${this.paint(FRAMES[this.frame])} ${this.text}`);
  }
}
