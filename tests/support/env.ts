/** Sets env vars for one test; `restore` puts back what was there. */
export function envFor(): { set(key: string, value: string): void; restore(): void } {
  const saved = new Map<string, string | undefined>();
  return {
    set(key, value) {
      if (!saved.has(key)) saved.set(key, process.env[key]);
      process.env[key] = value;
    },
    restore() {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      saved.clear();
    },
  };
}
