/**
 * Where the gRPC API's `.proto` lives and how it is loaded. The file ships in the package
 * (`proto/tender/payments/v1/payment_service.proto`) so clients generate or load their stubs from
 * the very file the server serves.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/** Fully-qualified name of the payments service. */
export const PAYMENT_SERVICE_NAME = 'tender.payments.v1.PaymentService';

/** The service's file, relative to {@link grpcProtoDir}. */
export const PAYMENT_SERVICE_PROTO = 'tender/payments/v1/payment_service.proto';

/**
 * How the server loads the proto with `@grpc/proto-loader`: snake_case field names as in the file
 * (and as in the REST API), 64-bit integers as decimal strings (no precision lost above 2^53),
 * enums by name, and no defaults filled in, so a field the caller left unset stays absent rather
 * than becoming `""` or `0`.
 */
export const PROTO_LOADER_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: false };

let protoDir: string | undefined;

/**
 * The directory holding the package's `.proto` files (pass it as an include dir). Found by walking
 * up from this module, because the sources (`src/grpc/`) and the bundle (`dist/`) sit at different
 * depths below the package root.
 */
export function grpcProtoDir(): string {
  if (protoDir) return protoDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, PAYMENT_SERVICE_PROTO))) return (protoDir = candidate);
    dir = dirname(dir);
  }
  throw new Error(`${PAYMENT_SERVICE_PROTO} not found above ${fileURLToPath(import.meta.url)}: the package's proto/ folder is missing`);
}

/** Absolute path of `payment_service.proto`. */
export function paymentServiceProtoPath(): string {
  return join(grpcProtoDir(), PAYMENT_SERVICE_PROTO);
}

/**
 * Loads the payments service (and any extra files, such as the health service's, for reflection)
 * with {@link PROTO_LOADER_OPTIONS}.
 */
export function loadPaymentServiceDefinition(extra: { files: string[]; includeDirs: string[] } = { files: [], includeDirs: [] }): PackageDefinition {
  return loadSync([PAYMENT_SERVICE_PROTO, ...extra.files], { ...PROTO_LOADER_OPTIONS, includeDirs: [grpcProtoDir(), ...extra.includeDirs] });
}
