// Which GStreamer elements exist on this host, and which Debian package brings each one that
// fluxcast's components use (gst-packages.json: the one table behind the "not installed"
// messages of components, the test that every component type's elements exist, and .ci/run).
// Existence is asked of gst-inspect-1.0 once per element and process, never blocking a feed.

import { execFile } from 'child_process';
import PACKAGES from './gst-packages.json';

/** Element name → the Debian package that provides it. */
export const ELEMENT_PACKAGES: Readonly<Record<string, string>> = PACKAGES;

export function debianPackageOf(element: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(ELEMENT_PACKAGES, element) ? ELEMENT_PACKAGES[element] : undefined;
}

/** `clockoverlay (Debian package gstreamer1.0-x)`, or the element alone when no package is known. */
export function describeMissing(element: string): string {
  const p = debianPackageOf(element);
  return p ? `${element} (Debian package ${p})` : `${element} (no Debian package known for it)`;
}

/** The message of a component that cannot run for want of elements: each named with its package. */
export function missingElementsText(missing: readonly string[]): string {
  const packages = [...new Set(missing.map(debianPackageOf).filter((p): p is string => !!p))];
  return `GStreamer element(s) not installed: ${missing.map(describeMissing).join(', ')}` + (packages.length ? `; apt-get install ${packages.join(' ')}` : '');
}

const known = new Map<string, Promise<boolean>>();

export function elementExists(element: string): Promise<boolean> {
  let p = known.get(element);
  if (!p) {
    p = new Promise((resolve) => execFile('gst-inspect-1.0', ['--exists', element], (err) => resolve(!err)));
    known.set(element, p);
  }
  return p;
}

/** The elements of `elements` that this host lacks (all of them when GStreamer itself is missing). */
export async function missingOf(elements: readonly string[]): Promise<string[]> {
  const exists = await Promise.all(elements.map(elementExists));
  return elements.filter((_, i) => !exists[i]);
}
