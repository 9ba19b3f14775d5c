// What every config kind has in common, and what a kind's own file provides: its names (KindInfo), the
// schema of its spec and the checks of what the spec means. validate.ts runs them; resources.ts lists
// the kinds. A new kind is a new file beside this one, not a new branch in a shared one.
import type { Issue } from '../errors.js';
import type { Schema } from '../schema.js';

export interface ObjectMeta {
  name: string;
  namespace: string;
  /** Store revision of the last write; set by weftd. */
  resourceVersion?: string;
  /** RFC 3339; set by weftd on create. */
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ResourceOf<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

/** The names of a kind, as kubectl and istioctl users type them, and its API group and versions. */
export interface KindInfoOf<K extends string> {
  kind: K;
  group: string;
  apiVersions: readonly string[];
  plural: string;
  singular: string;
  shortNames: readonly string[];
}

/** One kind: its names, the schema of its spec, and the checks of meaning run once the structure is right. */
export interface KindDefinition<K extends string = string, S = unknown> {
  info: KindInfoOf<K>;
  spec: Schema;
  /** Adds an issue (with its path from the resource root, e.g. `spec.rules[0]`) for every problem of meaning. */
  checkMeaning(resource: ResourceOf<K, S>, issues: Issue[]): void;
}
