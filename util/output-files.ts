// Every file envc writes goes through writeAtomic: compile output, --save, examples, reports,
// counterexamples, synth outputs. It writes a temp file beside the target and renames it over
// the target, so a crash, a kill, a full disk or a file-size limit leaves the old file as it
// was and no half-written one; it writes through symlinks (the link stays, the file it points
// to gets the text), refuses folders, FIFOs, devices and sockets, and turns every failure into
// an OutputError whose message says which file, what went wrong and what to do. Imports only
// node:fs and node:path, so that commands which write but do not compile stay light.
import { promises as fs, constants as fsConstants } from "node:fs";
import * as path from "node:path";

/** A file envc could not write; the message is complete, for the user (the CLI exits 2). */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputError";
  }
}

/** What kind of thing is at a path, in words, for one that is not a regular file or folder. */
function kindOf(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * The message for an error writing `file` (errno codes in words, with what to do); `existed`:
 * whether a file was there before, which the failed write left as it was.
 */
export function describeWriteError(err: unknown, file: string, existed = true): string {
  const e = err as NodeJS.ErrnoException;
  const unchanged = existed ? `${file} is unchanged` : "nothing was written";
  switch (e?.code) {
    case "ENOSPC":
      return `cannot write ${file}: no space left on the device; ${unchanged} (free some space and run again)`;
    case "EDQUOT":
      return `cannot write ${file}: disk quota exceeded; ${unchanged}`;
    case "EFBIG":
      return `cannot write ${file}: the file is larger than the file-size limit (\`ulimit -f\`); ${unchanged} (raise the limit or write less)`;
    case "EACCES":
    case "EPERM":
      return `cannot write ${file}: permission denied (check the folder's permissions, or name another file)`;
    case "EROFS":
      return `cannot write ${file}: the file system is read-only (name a file elsewhere)`;
    case "EISDIR":
      return `cannot write ${file}: it is a folder (name a file in it instead)`;
    case "ENOTDIR":
      return `cannot write ${file}: a part of the path is a file, not a folder`;
    case "ENAMETOOLONG":
      return `cannot write ${file}: the name is too long`;
    case "ELOOP":
      return `cannot write ${file}: too many symbolic links (a link loop?)`;
    case "EMFILE":
    case "ENFILE":
      return `cannot write ${file}: too many open files (raise \`ulimit -n\`)`;
    case "EIO":
      return `cannot write ${file}: input/output error from the device; ${unchanged}`;
    case "ENOENT":
      return `cannot write ${file}: its folder does not take new files`;
    default:
      return `cannot write ${file}: ${e?.message ?? String(err)}`;
  }
}

/**
 * Follow `file` through symlinks to the path that will really be written (links to links
 * included, relative links resolved from their own folder). A dangling link gives the path it
 * points to, which is then created, as a shell's `>` would.
 */
async function resolveTarget(file: string): Promise<string> {
  let current = file;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = await fs.lstat(current);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return current; // makeFolder names what is in the way
      throw new OutputError(describeWriteError(err, file));
    }
    if (!st.isSymbolicLink()) return current;
    const link = await fs.readlink(current);
    current = path.resolve(path.dirname(current), link);
  }
  throw new OutputError(describeWriteError({ code: "ELOOP" }, file));
}

/** Create `dir` and its parents, or say which part of the path is in the way. */
async function makeFolder(dir: string, file: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") {
      // find the nearest part of the path that exists and is not a folder
      let p = dir;
      for (;;) {
        const st = await fs.stat(p).catch(() => undefined);
        if (st && !st.isDirectory()) throw new OutputError(`cannot write ${file}: ${p} is a file, not a folder (remove it or name another place)`);
        const up = path.dirname(p);
        if (up === p) break;
        p = up;
      }
    }
    throw new OutputError(describeWriteError(err, file));
  }
}

/** Where a write of `file` goes, and what is there now: checked as far as it can be without writing. */
async function prepare(file: string): Promise<{ target: string; shown: string; mode?: number }> {
  const target = await resolveTarget(file);
  const shown = target === file ? file : `${file} (-> ${target})`;
  const st = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
    throw new OutputError(describeWriteError(err, shown));
  });
  if (!st) return { target, shown };
  if (st.isDirectory()) throw new OutputError(`cannot write ${shown}: it is a folder (name a file, e.g. ${path.join(file, "state.json")})`);
  if (!st.isFile()) throw new OutputError(`cannot write ${shown}: it is ${kindOf(st)}, not a regular file; envc writes only regular files (name another path)`);
  return { target, shown, mode: st.mode & 0o7777 };
}

/**
 * Check before long work that `file` could be written: not a folder, FIFO or device, and no
 * part of its folder a file. Throws OutputError as writeAtomic would; writes nothing.
 */
export async function checkOutputFile(file: string): Promise<void> {
  const { target, shown } = await prepare(file);
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (st) {
      if (!st.isDirectory()) throw new OutputError(`cannot write ${shown}: ${dir} is a file, not a folder (remove it or name another place)`);
      return;
    }
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

let tempCounter = 0;

/**
 * Write `text` to `file` atomically: the whole text or nothing. Symlinks are written through;
 * a folder, FIFO, device or socket is refused; the folder is created when missing; an
 * existing file keeps its permissions. Throws OutputError with the reason.
 */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const { target, shown, mode } = await prepare(file);
  await makeFolder(path.dirname(target), shown);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${tempCounter++}`);
  let handle: fs.FileHandle | undefined;
  try {
    // O_EXCL: never follow or reuse something already at the temp path
    handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode ?? 0o666);
    await handle.writeFile(text);
    if (mode !== undefined) await handle.chmod(mode); // open's mode is masked by the umask
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err instanceof OutputError ? err : new OutputError(describeWriteError(err, shown, mode !== undefined));
  }
}
