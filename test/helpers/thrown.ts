/** The error of class `E` that `f` throws; any other exception, or none, fails the test. */
export function thrown<E extends Error>(f: () => unknown, E: abstract new (...args: never[]) => E): E {
  try {
    f();
  } catch (e) {
    if (e instanceof E) return e;
    throw e;
  }
  throw new Error(`expected ${E.name}, but nothing was thrown`);
}
