/**
 * What `terraform apply` would create, in moto: the buckets, the secrets (given the values the
 * rehearsal's sandboxes accept), every S3 object the stack declares (the Glue script, its modules,
 * the table specs) with the content the synthesized JSON holds, and the Glue database and tables
 * from their synthesized definitions, through the real AWS SDK against moto's wire protocols.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateDatabaseCommand, CreateTableCommand, type GlueClient, type TableInput } from '@aws-sdk/client-glue';
import type { Synthesized } from './artifacts.ts';

export interface Provisioned {
  buckets: string[];
  secrets: string[];
  objects: string[];
  database?: string;
  tables: string[];
}

export interface Clients {
  s3: S3Client;
  secrets: SecretsManagerClient;
  glue: GlueClient;
}

/** Creates buckets, secrets (values by secret id) and objects. The catalog is provisioned separately (provisionCatalog), before the first job run, as apply creates it. */
export async function provisionStorage(s: Synthesized, c: Clients, secretValues: Record<string, string>): Promise<Provisioned> {
  const out: Provisioned = { buckets: [], secrets: [], objects: [], tables: [] };
  for (const b of s.model.ofType('aws_s3_bucket')) {
    const name = s.value(String(b.config.bucket));
    await c.s3.send(new CreateBucketCommand({ Bucket: name }));
    out.buckets.push(name);
  }
  for (const sec of s.model.ofType('aws_secretsmanager_secret')) {
    const name = s.value(String(sec.config.name));
    const value = secretValues[name];
    // Created empty by the stack; the operator puts the value (here: the sandbox's credentials).
    await c.secrets.send(new CreateSecretCommand({ Name: name, ...(value !== undefined ? { SecretString: value } : {}) }));
    out.secrets.push(name);
  }
  for (const o of s.model.ofType('aws_s3_object')) {
    const cfg = s.value(o.config) as { bucket: string; key: string; content?: string; content_base64?: string; source?: string; content_type?: string };
    let body: Buffer | string;
    if (typeof cfg.content === 'string') body = cfg.content;
    else if (typeof cfg.content_base64 === 'string') body = Buffer.from(cfg.content_base64, 'base64');
    else if (typeof cfg.source === 'string') body = await readFile(isAbsolute(cfg.source) ? cfg.source : join(s.stackDir, cfg.source));
    else throw new Error(`${o.address}: neither content, content_base64 nor source`);
    await c.s3.send(new PutObjectCommand({ Bucket: cfg.bucket, Key: cfg.key, Body: body, ContentType: cfg.content_type }));
    out.objects.push(`s3://${cfg.bucket}/${cfg.key}`);
  }
  return out;
}

/** Terraform's snake_case attributes of aws_glue_catalog_table as the Glue API's TableInput. */
export function tableInput(cfg: Record<string, unknown>): TableInput {
  const cols = (v: unknown) => ((v as Array<Record<string, string>> | undefined) ?? []).map((c) => ({ Name: c.name, Type: c.type, ...(c.comment ? { Comment: c.comment } : {}) }));
  const sd = (cfg.storage_descriptor ?? {}) as Record<string, unknown>;
  const serde = (sd.ser_de_info ?? {}) as Record<string, unknown>;
  return {
    Name: String(cfg.name),
    Description: cfg.description as string | undefined,
    TableType: cfg.table_type as string | undefined,
    Parameters: cfg.parameters as Record<string, string> | undefined,
    PartitionKeys: cols(cfg.partition_keys),
    StorageDescriptor: {
      Location: sd.location as string | undefined,
      InputFormat: sd.input_format as string | undefined,
      OutputFormat: sd.output_format as string | undefined,
      SerdeInfo: { Name: serde.name as string | undefined, SerializationLibrary: serde.serialization_library as string | undefined, Parameters: serde.parameters as Record<string, string> | undefined },
      Columns: cols(sd.columns),
    },
  };
}

/** The Glue database and tables, from their synthesized definitions. */
export async function provisionCatalog(s: Synthesized, c: Clients, out: Provisioned): Promise<void> {
  const db = s.one('aws_glue_catalog_database').config;
  const database = s.value(String(db.name));
  await c.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database, Description: db.description as string | undefined } }));
  out.database = database;
  for (const t of s.model.ofType('aws_glue_catalog_table')) {
    const cfg = s.value(t.config) as Record<string, unknown>;
    await c.glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: tableInput(cfg) }));
    out.tables.push(String(cfg.name));
  }
}
