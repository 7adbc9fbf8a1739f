// A progress bar on stderr for long runs, shown only when stderr is a terminal and CI is not
// set; elsewhere (pipes, logs, tests) it does nothing, so output stays clean and reproducible.
import cliProgress from "cli-progress";

export class Progress {
  private bar?: cliProgress.SingleBar;

  constructor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    if (!stream.isTTY || process.env.CI || total === 0) return;
    this.bar = new cliProgress.SingleBar(
      { stream, format: `${label} [{bar}] {value}/{total} {detail}`, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { detail: "" });
  }

  tick(detail = ""): void {
    this.bar?.increment(1, { detail });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
