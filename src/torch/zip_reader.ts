// Reads the stored (uncompressed) entries of a zip archive, the container torch.save writes.
import { readFileSync } from "node:fs";

export interface ZipArchive {
  names(): string[];
  read(name: string): Uint8Array;
}

export function openZip(path: string, bytes: Buffer = readFileSync(path)): ZipArchive {
  const fail = (why: string): never => {
    throw new Error(`${path}: not a readable zip archive (${why})`);
  };
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65_535); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) fail("no end-of-directory record");
  let count = bytes.readUInt16LE(end + 10);
  let directory = bytes.readUInt32LE(end + 16);
  if (directory === 0xffffffff || count === 0xffff) {
    // Zip64: the locator just before the end record points at the zip64 end record.
    const locator = end - 20;
    if (locator < 0 || bytes.readUInt32LE(locator) !== 0x07064b50) fail("missing zip64 locator");
    const record = Number(bytes.readBigUInt64LE(locator + 8));
    count = Number(bytes.readBigUInt64LE(record + 32));
    directory = Number(bytes.readBigUInt64LE(record + 48));
  }
  const entries = new Map<string, { offset: number; size: number; method: number }>();
  let position = directory;
  for (let i = 0; i < count; i++) {
    if (position + 46 > bytes.length || bytes.readUInt32LE(position) !== 0x02014b50)
      fail("corrupt central directory");
    const method = bytes.readUInt16LE(position + 10);
    let size = bytes.readUInt32LE(position + 24);
    const nameLength = bytes.readUInt16LE(position + 28);
    const extraLength = bytes.readUInt16LE(position + 30);
    const commentLength = bytes.readUInt16LE(position + 32);
    let offset = bytes.readUInt32LE(position + 42);
    const name = bytes.toString("utf8", position + 46, position + 46 + nameLength);
    // Zip64 extra field (id 1): 64-bit sizes and offset for the fields set to 0xffffffff.
    let extra = position + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = bytes.readUInt16LE(extra);
      const length = bytes.readUInt16LE(extra + 2);
      if (id === 1) {
        let field = extra + 4;
        if (size === 0xffffffff) {
          size = Number(bytes.readBigUInt64LE(field + 8)); // uncompressed first, then compressed
          field += 16;
        }
        if (offset === 0xffffffff) offset = Number(bytes.readBigUInt64LE(field));
      }
      extra += 4 + length;
    }
    entries.set(name, { offset, size, method });
    position = extraEnd + commentLength;
  }
  return {
    names: () => [...entries.keys()],
    read(name: string): Uint8Array {
      const entry = entries.get(name);
      if (!entry) return fail(`no entry '${name}'`);
      if (entry.method !== 0)
        fail(`entry '${name}' is compressed; torch.save archives store entries uncompressed`);
      const local = entry.offset;
      if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50)
        fail(`corrupt entry '${name}'`);
      const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
      if (start + entry.size > bytes.length) fail(`entry '${name}' runs past the end of the file`);
      return bytes.subarray(start, start + entry.size);
    },
  };
}
