// Writes a zip archive of stored (uncompressed) entries, each entry's data aligned to
// 64 bytes as torch.save aligns it, so readers may map tensors straight from the file.
import { crc32 } from "node:zlib";

/** The archive's bytes, as parts to write in order. Sizes must stay below 4 GiB per entry. */
export function zipStored(entries: [string, Uint8Array][], alignment = 64): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    if (data.length >= 0xffffffff) throw new Error(`zip entry '${name}' is too large for this writer`);
    const nameBytes = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const unpadded = offset + 30 + nameBytes.length + 4;
    const padding = (alignment - (unpadded % alignment)) % alignment;
    const extra = Buffer.alloc(4 + padding); // a private extra field whose only job is alignment
    extra.writeUInt16LE(0x4654, 0);
    extra.writeUInt16LE(padding, 2);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    parts.push(local, nameBytes, extra, data);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(data.length, 20);
    record.writeUInt32LE(data.length, 24);
    record.writeUInt16LE(nameBytes.length, 28);
    record.writeUInt32LE(offset, 42);
    central.push(record, nameBytes);
    offset += local.length + nameBytes.length + extra.length + data.length;
  }
  const directorySize = central.reduce((total, part) => total + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(offset, 16);
  return [...parts, ...central, end];
}
