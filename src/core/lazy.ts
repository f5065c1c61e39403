/**
 * Values built on first use. The input schemas use these: a CLI process
 * validates one or two kinds of input, and building every zod 4 schema up
 * front (each instance gets its methods as fresh closures) cost about as much
 * as loading zod itself, on every command (docs/PERFORMANCE.md).
 */

/** A function that builds its value on the first call and returns the same value afterwards. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

/** An object whose properties are built on first read, then kept as plain read-only properties. */
export function builtOnFirstRead<T extends Record<string, () => unknown>>(builders: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const target: Record<string, unknown> = {};
  for (const [key, build] of Object.entries(builders)) {
    Object.defineProperty(target, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = build();
        Object.defineProperty(target, key, { value, enumerable: true, writable: false, configurable: false });
        return value;
      },
    });
  }
  return target as { readonly [K in keyof T]: ReturnType<T[K]> };
}
