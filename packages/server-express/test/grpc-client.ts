/**
 * A real @grpc/grpc-js client of the gRPC API, generated at run time from the package's own proto
 * with proto-loader (as a Node client would), plus the health and reflection clients and an
 * independent decoder of `grpc-status-details-bin`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Metadata, credentials, loadPackageDefinition, type Client, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import protobuf from 'protobufjs';
import { paymentServiceProtoPath } from '../src/grpc/proto';

// A client's usual options: unset fields read as their defaults ('' and 0, null for messages).
const CLIENT_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

function service(file: string, name: string, includeDirs: string[] = []): Ctor {
  const loaded = loadPackageDefinition(loadSync(file, { ...CLIENT_OPTIONS, includeDirs })) as Record<string, any>;
  return name.split('.').reduce((node, part) => node[part], loaded) as Ctor;
}

const PaymentService = service(paymentServiceProtoPath(), 'tender.payments.v1.PaymentService');
const Health = service(healthProtoPath, 'grpc.health.v1.Health');
const require = createRequire(import.meta.url);
const reflectionProto = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
const ServerReflection = service(reflectionProto, 'grpc.reflection.v1.ServerReflection');

/** What a unary call answered. */
export interface Answer<T = any> {
  response: T | null;
  error: ServiceError | null;
  headers: Metadata;
  trailers: Metadata;
}

/** A PaymentService client whose calls resolve with response or error, headers and trailers. */
export interface PaymentClient {
  call(method: string, request: Record<string, unknown>, metadata?: Record<string, string | string[]>): Promise<Answer>;
  raw: Client;
  close(): void;
}

export function paymentClient(address: string, token?: string): PaymentClient {
  const raw = new PaymentService(address, credentials.createInsecure());
  return {
    raw,
    call(method, request, metadata = {}) {
      const md = new Metadata();
      if (token && !('authorization' in metadata)) md.set('authorization', `Bearer ${token}`);
      for (const [k, v] of Object.entries(metadata)) for (const value of [v].flat()) md.add(k, value);
      return new Promise((resolve) => {
        let headers = new Metadata();
        const result: { response: unknown; error: ServiceError | null } = { response: null, error: null };
        let pending = 2;
        let trailers = new Metadata();
        const done = () => {
          if (--pending === 0) resolve({ ...result, headers, trailers });
        };
        const call = (raw as any)[method](request, md, (error: ServiceError | null, response: unknown) => {
          result.error = error;
          result.response = response ?? null;
          done();
        });
        call.on('metadata', (m: Metadata) => (headers = m));
        call.on('status', (s: StatusObject) => {
          trailers = s.metadata;
          done();
        });
      });
    },
    close: () => raw.close(),
  };
}

export function healthClient(address: string): Client & Record<string, any> {
  return new Health(address, credentials.createInsecure()) as Client & Record<string, any>;
}

export function reflectionClient(address: string): Client & Record<string, any> {
  return new ServerReflection(address, credentials.createInsecure()) as Client & Record<string, any>;
}

// googleapis' google/rpc/status.proto and error_details.proto (the messages used), written out from
// the published files rather than taken from the server, so the server's encoding is checked.
const RPC_PROTO = `
syntax = "proto3";
package google.rpc;
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
message BadRequest {
  message FieldViolation { string field = 1; string description = 2; string reason = 3; }
  repeated FieldViolation field_violations = 1;
}
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
`;
const rpc = protobuf.parse(RPC_PROTO, { keepCase: true }).root;

/** The `google.rpc.Status` of an error's `grpc-status-details-bin`, with its details decoded by type. */
export function richStatus(metadata: Metadata): { code: number; message: string; details: Record<string, any> } | null {
  const [bin] = metadata.get('grpc-status-details-bin');
  if (!Buffer.isBuffer(bin)) return null;
  const status = rpc.lookupType('google.rpc.Status').toObject(rpc.lookupType('google.rpc.Status').decode(bin), { longs: String }) as any;
  const details: Record<string, any> = {};
  for (const any of status.details ?? []) {
    const name = String(any.type_url).replace('type.googleapis.com/google.rpc.', '');
    const type = rpc.lookupType(`google.rpc.${name}`);
    details[name] = type.toObject(type.decode(any.value), { longs: String });
  }
  return { code: status.code, message: status.message, details };
}

/** Every value of a metadata key as text. */
export function text(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return value === undefined ? undefined : String(value);
}
