// A restricted unpickler for the pickles torch.save writes. It builds data only:
// dicts, lists, tuples, numbers, strings, tensors (through the callbacks), and for
// any other Python class a plain record of its name and state. Nothing is executed.

/** A Python global the pickle refers to, e.g. torch._utils._rebuild_tensor_v2. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a Python class the loader does not map (e.g. argparse.Namespace). */
export class PickleObject {
  state: unknown = undefined;
  constructor(
    readonly className: string,
    readonly args: unknown[],
  ) {}
}

export interface UnpickleHooks {
  /** Resolves a persistent id (torch: ('storage', type, key, location, numel)). */
  persistentLoad(pid: unknown): unknown;
  /** Calls an allowed global with its arguments; returns undefined for globals it does not know. */
  call(callable: PickleGlobal, args: unknown[]): unknown;
}

const MARK = Symbol("mark");

export function unpickle(data: Uint8Array, hooks: UnpickleHooks, source = "pickle"): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder();
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let position = 0;
  const fail = (why: string): never => {
    throw new Error(`${source}: cannot unpickle (${why} at byte ${position})`);
  };
  const need = (count: number) => {
    if (position + count > data.length) fail("truncated data");
  };
  const byte = () => {
    need(1);
    return data[position++];
  };
  const uint16 = () => {
    need(2);
    position += 2;
    return view.getUint16(position - 2, true);
  };
  const uint32 = () => {
    need(4);
    position += 4;
    return view.getUint32(position - 4, true);
  };
  const text = (length: number) => {
    need(length);
    position += length;
    return decoder.decode(data.subarray(position - length, position));
  };
  const line = () => {
    const end = data.indexOf(10, position);
    if (end < 0) fail("unterminated line");
    const value = decoder.decode(data.subarray(position, end));
    position = end + 1;
    return value;
  };
  const pop = () => (stack.length ? stack.pop() : fail("stack underflow"));
  const popMark = (): unknown[] => {
    const mark = stack.lastIndexOf(MARK);
    if (mark < 0) fail("missing mark");
    const items = stack.splice(mark);
    items.shift();
    return items;
  };
  const top = () => (stack.length ? stack[stack.length - 1] : fail("stack underflow"));
  const setItems = (target: unknown, items: unknown[]) => {
    if (target instanceof Map) for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
    else if (target instanceof PickleObject) {
      const state = (target.state ??= new Map()) as Map<unknown, unknown>;
      for (let i = 0; i < items.length; i += 2) state.set(items[i], items[i + 1]);
    } else fail("SETITEM on a non-dict");
  };
  const instantiate = (callable: unknown, args: unknown[]) => {
    if (!(callable instanceof PickleGlobal)) return fail("call of a non-global");
    const result = hooks.call(callable, args);
    return result === undefined ? new PickleObject(callable.qualifiedName, args) : result;
  };

  for (;;) {
    const opcode = byte();
    switch (opcode) {
      case 0x80: // PROTO
        byte();
        break;
      case 0x95: // FRAME
        need(8);
        position += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        (top() as unknown[]).push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        (top() as unknown[]).push(...items);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(byte());
        break;
      case 0x4d: // BININT2
        stack.push(uint16());
        break;
      case 0x4a: // BININT
        need(4);
        position += 4;
        stack.push(view.getInt32(position - 4, true));
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const length = byte();
        need(length);
        let value = 0n;
        for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[position + i]);
        if (length > 0 && data[position + length - 1] & 0x80) value -= 1n << BigInt(8 * length);
        position += length;
        stack.push(Number(value));
        break;
      }
      case 0x47: // BINFLOAT, big-endian
        need(8);
        position += 8;
        stack.push(view.getFloat64(position - 8, false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(uint32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(byte()));
        break;
      case 0x43: {
        // SHORT_BINBYTES
        const length = byte();
        need(length);
        stack.push(data.slice(position, (position += length)));
        break;
      }
      case 0x42: {
        // BINBYTES
        const length = uint32();
        need(length);
        stack.push(data.slice(position, (position += length)));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(new PickleGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop() as string;
        stack.push(new PickleGlobal(pop() as string, name));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop() as unknown[];
        stack.push(instantiate(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop() as unknown[];
        stack.push(instantiate(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: set an object's state; dicts (OrderedDict's _metadata) ignore it
        const state = pop();
        const target = top();
        if (target instanceof PickleObject) target.state = state;
        break;
      }
      case 0x71: // BINPUT
        memo.set(byte(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(uint32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memo.get(byte()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(uint32()));
        break;
      default:
        fail(`unsupported opcode 0x${opcode.toString(16)}`);
    }
  }
}
