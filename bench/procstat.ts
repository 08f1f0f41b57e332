// CPU time and resident memory of a process, read from /proc (Linux), for benchmarks.
import * as fs from 'fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by `pid` and its reaped children. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (14th and 15th of the full line)
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/** Resident set size in MB. */
export function rssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** `pid` and all its descendants (from /proc/PID/task/TID/children). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of fs.readdirSync(`/proc/${out[i]}/task`)) {
        const kids = fs.readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds of a process and its live descendants (a streamer with sender processes). */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((n, p) => n + (cpuSeconds(p) || 0), 0);
}

/** Resident memory in MB of a process and its live descendants. */
export function treeRssMB(pid: number): number {
  return processTree(pid).reduce((n, p) => n + (rssMB(p) || 0), 0);
}
