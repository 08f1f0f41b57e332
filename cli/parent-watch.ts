// Children that must not outlive their parent: `fluxcast up` and `npm start` start a manager and
// workers that hold ports; if the parent dies without stopping them (SIGKILL, or npm exiting on
// SIGTERM without waiting), they notice that their parent process changed and stop cleanly.

/** Calls `stop` once the process that started us is gone (polled every 250 ms; the timer does not keep us alive). */
export function stopWhenOrphaned(stop: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop();
    }
  }, 250);
  timer.unref();
}
