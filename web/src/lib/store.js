import { useEffect, useState } from 'preact/hooks';

/** A tiny observable value shared across components. */
export function createStore(initial) {
  let value = initial;
  const listeners = new Set();
  return {
    get: () => value,
    set(next) {
      value = typeof next === 'function' ? next(value) : next;
      listeners.forEach((fn) => fn(value));
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/** Re-render the calling component whenever the store changes. */
export function useStore(store) {
  const [value, setValue] = useState(store.get());
  useEffect(() => {
    // A change made after the first render but before this effect (a redirect queued while
    // rendering, e.g. to /login from a bookmarked page) would otherwise never reach the component.
    setValue(store.get());
    return store.subscribe(setValue);
  }, [store]);
  return value;
}
