/**
 * The s3a settings of the spark engine (adapters/spark/s3a.ts): the MasterDataset's own S3
 * settings in Hadoop's words, and the object URLs s3a reads.
 */
import { describe, expect, it } from 'vitest';
import { s3aSettings, s3aUrl } from '../../adapters/spark/s3a.js';
import { parseS3Url } from '../../adapters/master/s3-location.js';
import { S3MasterDataset } from '../../adapters/master/s3-master-dataset.js';
import type { S3Settings } from '../../adapters/master/s3-client.js';

const base: S3Settings = {
  endpoint: null,
  region: 'eu-west-1',
  forcePathStyle: false,
  maxAttempts: 5,
  requestTimeoutMs: 30_000,
  listPageSize: 1000,
  credentials: null,
};

describe('s3a settings', () => {
  it('points s3a at an S3-compatible endpoint, path-style, with explicit keys', () => {
    const conf = s3aSettings({
      ...base,
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      maxAttempts: 3,
      credentials: { accessKeyId: 'lambda', secretAccessKey: 'lambda-secret' },
    });
    expect(conf).toMatchObject({
      'fs.s3a.endpoint': 'http://127.0.0.1:9000',
      'fs.s3a.connection.ssl.enabled': 'false',
      'fs.s3a.path.style.access': 'true',
      'fs.s3a.endpoint.region': 'eu-west-1',
      'fs.s3a.attempts.maximum': '3',
      'fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
      'fs.s3a.access.key': 'lambda',
      'fs.s3a.secret.key': 'lambda-secret',
    });
  });

  it('leaves AWS S3 and its default credential chain alone when nothing is set', () => {
    const conf = s3aSettings(base);
    expect(conf['fs.s3a.endpoint']).toBeUndefined();
    expect(conf['fs.s3a.path.style.access']).toBe('false');
    expect(Object.keys(conf).filter((k) => /key|credentials/.test(k))).toEqual([]);
  });

  it('reads an object of the dataset at s3a://bucket/prefix/key', () => {
    const dataset = new S3MasterDataset(parseS3Url('s3://lake/master/v1'), base);
    const key = 'events/arrival=2024-05-01T10/events-0-00000000000000000000.jsonl.gz';
    expect(s3aUrl(dataset.objectUrl(key))).toBe(`s3a://lake/master/v1/${key}`);
  });
});
