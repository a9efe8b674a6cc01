/**
 * A restricted unpickler (pickle protocols 2-5, the binary opcodes torch.save emits). It builds
 * plain data (numbers, strings, bytes, lists, tuples, dicts) itself; every GLOBAL is passed to a
 * caller-supplied policy, which must return a JS stand-in or refuse it. Nothing in the file is
 * ever executed: a reference to `os.system` is just a name the policy refuses.
 *
 * A few hundred bytes of pickle can describe a structure far larger than themselves (memo
 * references shared many times over, containers nested thousands deep), so nothing here walks a
 * value without a budget: container depth is tracked as containers are built and refused past
 * maxNestingDepth, and tuple dict keys are canonicalised only while they are small.
 */
import { checkLimit, quoteBounded } from "../limits.ts";

/** A Python dict (or OrderedDict) in insertion order; `attrs` holds state set by BUILD. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  attrs?: unknown;
  /** The first of each set of equal small tuple keys, by canonical form (see `set`). */
  private tupleKeys?: Map<string, PyTuple>;
  constructor(readonly className = "dict") {}

  /**
   * Sets an item. Python compares tuple keys by value, so a small tuple of plain values equal to
   * an earlier key replaces that key's value; a larger tuple (shared memo references can make
   * one astronomically large when expanded) keeps its identity instead of being compared.
   */
  set(k: unknown, v: unknown): void {
    let key = k;
    if (k instanceof PyTuple) {
      const canonical = canonicalTuple(k);
      if (canonical !== undefined) {
        this.tupleKeys ??= new Map();
        const first = this.tupleKeys.get(canonical);
        if (first) key = first;
        else this.tupleKeys.set(canonical, k);
      }
    }
    this.map.set(key, v);
  }
}

export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

export class PySet {
  constructor(
    readonly items: unknown[],
    readonly frozen: boolean,
  ) {}
}

/** What a policy returns for an allowed global. */
export interface PyCallable {
  readonly qualname: string;
  /** REDUCE / NEWOBJ: build the value from the unpickled arguments. */
  call?(args: unknown[]): unknown;
}

export interface UnpicklePolicy {
  /** Returns the stand-in for module.name, or throws to refuse it. */
  global(module: string, name: string, offset: number): PyCallable;
  /** BINPERSID: resolves a persistent id (torch: a storage reference). */
  persistentLoad?(pid: unknown, offset: number): unknown;
  /** BUILD: applies `state` to an object the policy created (default: dicts keep it as attrs). */
  build?(obj: unknown, state: unknown): unknown;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode (legacy torch files hold several pickles back to back). */
  end: number;
}

/** Unpickles one object starting at `start`. Errors name the file, offset and opcode. */
export function unpickle(
  bytes: Uint8Array,
  policy: UnpicklePolicy,
  fileName = "pickle",
  start = 0,
): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const memo = new Map<number, unknown>();
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  let pos = start;
  let opAt = start;
  let op = 0;

  const fail = (msg: string): never => {
    const name = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : "";
    throw new Error(
      `${fileName}: pickle opcode 0x${op.toString(16).padStart(2, "0")}${name} at offset ${opAt}: ${msg}`,
    );
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) {
      fail(`needs ${n} more bytes but the data ends at offset ${bytes.length} (truncated?)`);
    }
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return view.getUint16(pos - 2, true);
  };
  const u32 = () => {
    need(4);
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const u64 = () => {
    need(8);
    pos += 8;
    const v = view.getBigUint64(pos - 8, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? fail(`length ${v} is too large`) : Number(v);
  };
  const text = (n: number): string => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return fail("string is not valid UTF-8");
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("unterminated line (truncated?)");
    const s = new TextDecoder("latin1").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail("stack underflow (corrupt pickle)");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow (corrupt pickle)");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) fail("no MARK on the stack (corrupt pickle)");
    stack = prev as unknown[];
    return items;
  };
  const asDict = (v: unknown): PyDict =>
    v instanceof PyDict ? v : fail(`expected a dict to set items on, got ${describe(v)}`);
  const asList = (v: unknown): unknown[] =>
    Array.isArray(v) ? v : fail(`expected a list to append to, got ${describe(v)}`);
  // Container depth, tracked as containers are built (see the module comment). Values that are
  // not objects have depth 0, objects not recorded here (bytes, stand-ins) depth 1.
  const depths = new WeakMap<object, number>();
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === "object" ? (depths.get(v) ?? 1) : 0;
  const setDepth = (container: object, depth: number) => {
    checkLimit(
      `${fileName}: pickle opcode at offset ${opAt}`,
      "container nesting depth",
      depth,
      "maxNestingDepth",
    );
    depths.set(container, depth);
  };
  /** Records a new container holding `items`; returns it. */
  const nested = <T extends object>(container: T, items: readonly unknown[]): T => {
    let depth = 1;
    for (const item of items) depth = Math.max(depth, depthOf(item) + 1);
    setDepth(container, depth);
    return container;
  };
  /** An item was added to an existing container. */
  const grow = (container: unknown, item: unknown) => {
    if (container === null || typeof container !== "object") return;
    const depth = depthOf(item) + 1;
    if (depth > depthOf(container)) setDepth(container, depth);
  };
  /** The result of a call is at least as deep as its arguments. */
  const result = (value: unknown, args: unknown): unknown => {
    if (value !== null && typeof value === "object") {
      const depth = Math.max(depthOf(value), depthOf(args));
      if (depth > 1) setDepth(value, depth);
    }
    return value;
  };
  const setItem = (d: PyDict, k: unknown, v: unknown) => {
    d.set(k, v);
    grow(d, k);
    grow(d, v);
  };
  const callable = (f: unknown): PyCallable =>
    f && typeof f === "object" && "qualname" in f
      ? (f as PyCallable)
      : fail(`cannot call ${describe(f)}`);
  const call = (f: unknown, args: unknown): unknown => {
    const c = callable(f);
    if (!c.call) fail(`${c.qualname} is not callable here`);
    if (!(args instanceof PyTuple)) fail(`arguments of ${c.qualname} are not a tuple`);
    try {
      return c.call!((args as PyTuple).items);
    } catch (e) {
      return fail(`${c.qualname}: ${(e as Error).message}`);
    }
  };
  const global = (module: string, name: string): PyCallable => {
    try {
      return policy.global(module, name, opAt);
    } catch (e) {
      throw new Error(`${fileName}: offset ${opAt}: ${(e as Error).message}`);
    }
  };
  const int = (v: bigint): number | bigint =>
    v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  const long = (n: number): number | bigint => {
    const b = take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return int(v);
  };

  for (;;) {
    opAt = pos;
    op = -1;
    if (pos >= bytes.length) {
      throw new Error(
        `${fileName}: pickle ends at offset ${pos} without a STOP opcode (truncated?)`,
      );
    }
    op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail(`pickle protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME: a length prefix only
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new PySet([], false));
        break;
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: {
        // LONG4
        const n = u32();
        if (n > 1024) fail(`a ${n}-byte integer is not plausible`);
        stack.push(long(n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(new TextDecoder("latin1").decode(take(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder("latin1").decode(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x74: {
        // TUPLE (popMark replaces `stack`, so take the items before pushing)
        const items = popMark();
        stack.push(nested(new PyTuple(items), items));
        break;
      }
      case 0x85: {
        // TUPLE1
        const items = [pop()];
        stack.push(nested(new PyTuple(items), items));
        break;
      }
      case 0x86: {
        // TUPLE2
        const b = pop();
        const items = [pop(), b];
        stack.push(nested(new PyTuple(items), items));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const items = [pop(), b, c];
        stack.push(nested(new PyTuple(items), items));
        break;
      }
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(nested(items, items));
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2) fail("odd number of items for a dict");
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(asDict(top()), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2) fail("odd number of items for SETITEMS");
        const d = asDict(top());
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = asList(top());
        list.push(v);
        grow(list, v);
        break;
      }
      case 0x65: {
        // APPENDS
        // A loop, not push(...items): spreading a huge MARK overflows the call stack.
        const items = popMark();
        const list = asList(top());
        for (const item of items) {
          list.push(item);
          grow(list, item);
        }
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) fail(`expected a set, got ${describe(s)}`);
        for (const item of items) {
          (s as PySet).items.push(item);
          grow(s, item);
        }
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(nested(new PySet(items, true), items));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} was never stored (corrupt pickle)`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("STACK_GLOBAL needs two strings");
        }
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(result(call(pop(), args), args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        stack.push(result(call(pop(), args), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size) {
          fail(`keyword arguments for ${callable(cls).qualname} are not supported`);
        }
        stack.push(result(call(cls, args), args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        if (policy.build) {
          try {
            stack.push(result(policy.build(obj, state), state));
          } catch (e) {
            fail((e as Error).message);
          }
        } else if (obj instanceof PyDict) {
          obj.attrs = state;
          grow(obj, state);
          stack.push(obj);
        } else fail(`cannot set state on ${describe(obj)}`);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!policy.persistentLoad) fail("persistent ids are not allowed here");
        try {
          stack.push(result(policy.persistentLoad!(pid, opAt), pid));
        } catch (e) {
          fail((e as Error).message);
        }
        break;
      }
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail("out-of-band buffers are not supported");
        break;
      default:
        fail("unsupported or unknown opcode (not a pickle, or a text-protocol pickle, or corrupt)");
    }
  }
}

const KEY_BUDGET = 64;

/**
 * A canonical string for a tuple of at most KEY_BUDGET plain values (nested tuples included), or
 * undefined for a larger one or one holding other objects: it is never expanded past the budget.
 */
function canonicalTuple(k: PyTuple): string | undefined {
  let budget = KEY_BUDGET;
  const plain = (v: unknown): unknown => {
    if (--budget < 0) throw new RangeError("key too large to canonicalise");
    if (v instanceof PyTuple) return v.items.map(plain);
    if (typeof v === "bigint") return v.toString();
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) return v;
    throw new TypeError("not a plain value");
  };
  try {
    return JSON.stringify(plain(k));
  } catch {
    return undefined;
  }
}

/** A short description of an unpickled value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof PyDict) return v.className;
  if (v instanceof PyTuple) return `tuple of ${v.items.length}`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v instanceof Uint8Array) return `bytes of ${v.length}`;
  if (v && typeof v === "object" && "qualname" in v) return (v as PyCallable).qualname;
  if (v && typeof v === "object") return v.constructor?.name ?? "object";
  return typeof v === "string" ? quoteBounded(v) : String(v);
}
