/**
 * Which stream, table or query a construct belongs to. The tagging aspect and the plan review
 * both read it, so a resource's `spotify-pipeline:table` tag and the group `plan` shows it in
 * can never disagree. Everything not marked belongs to the pipeline as a whole ("shared").
 */
import type { IAspect } from 'cdktf';
import { TerraformResource } from 'cdktf';
import type { IConstruct } from 'constructs';

export type OwnerKind = 'stream' | 'table' | 'query';

export interface Owner {
  kind: OwnerKind;
  name: string;
}

export const TAG_PREFIX = 'spotify-pipeline';
export const PIPELINE_TAG = `${TAG_PREFIX}:pipeline`;
export const ownerTag = (kind: OwnerKind) => `${TAG_PREFIX}:${kind}`;
/** Role of a bucket in the lake (lake, athena-results, artifacts, access-logs). */
export const BUCKET_ROLE_TAG = `${TAG_PREFIX}:bucket`;

const owners = new WeakMap<IConstruct, Owner>();

/** Marks `construct` and everything below it as belonging to one stream, table or query. */
export function markOwner<T extends IConstruct>(construct: T, owner: Owner): T {
  owners.set(construct, owner);
  return construct;
}

/** The nearest marked ancestor's owner (the construct itself included), or undefined (shared). */
export function ownerOf(construct: IConstruct): Owner | undefined {
  for (const c of [...construct.node.scopes].reverse()) {
    const o = owners.get(c);
    if (o) return o;
  }
  return undefined;
}

interface Taggable {
  tags?: Record<string, string>;
  tagsInput?: Record<string, string>;
}

function isTaggable(node: IConstruct): node is TerraformResource & Taggable {
  return node instanceof TerraformResource && 'tagsInput' in node;
}

/**
 * Tags every taggable resource with the pipeline name and, where it belongs to one, its stream,
 * table or query. Tags are explicit on each resource (not provider default_tags) so the
 * synthesized JSON shows them and a review can rely on them. Idempotent: aspects may run twice.
 */
export class PipelineTags implements IAspect {
  constructor(private readonly pipeline: string) {}

  visit(node: IConstruct): void {
    if (!isTaggable(node)) return;
    const owner = ownerOf(node);
    const tags: Record<string, string> = { [PIPELINE_TAG]: this.pipeline };
    if (owner) tags[ownerTag(owner.kind)] = owner.name;
    node.tags = { ...tags, ...(node.tagsInput ?? {}) };
  }
}
