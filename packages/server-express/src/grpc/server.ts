/**
 * The gRPC listener: `tender.payments.v1.PaymentService`, the standard health service
 * (`grpc.health.v1.Health`, <https://github.com/grpc/grpc/blob/master/doc/health-checking.md>) and
 * server reflection (<https://github.com/grpc/grpc/blob/master/doc/server-reflection.md>), so that
 * grpcurl, Postman and load balancers work without a copy of the proto.
 *
 * @module
 */
import { dirname } from 'node:path';
import { Server, ServerCredentials, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { redactingLogger, silentLogger, type Tender } from '@tender/core';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { PAYMENT_SERVICE_NAME, loadPaymentServiceDefinition } from './proto';
import { addPaymentService, type PaymentServiceOptions } from './service';

/** Options of {@link startGrpcServer}. */
export interface GrpcServerOptions extends PaymentServiceOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port; `0` picks a free one. */
  port: number;
  /**
   * Largest request message: bytes, or a size such as `100kb` (BODY_LIMIT's form; default 100 KiB,
   * the REST API's default body limit). A larger one is refused by grpc-js with RESOURCE_EXHAUSTED
   * before any handler runs, as gRPC's status codes document for messages over the limit.
   */
  maxReceiveMessageBytes?: number | string;
  /** Readiness (throws when not ready), followed by the health service. Default: always ready. */
  ready?: () => Promise<void>;
  /** How often readiness is checked again while a health Watch is open (default 5 s). */
  healthIntervalMs?: number;
}

/** A running gRPC listener. */
export interface TenderGrpcServer {
  /** `host:port`, as a grpc-js client takes it. */
  address: string;
  /** The bound port (the one picked when `port` was 0). */
  port: number;
  /** The grpc-js server underneath. */
  server: Server;
  /**
   * Shuts down: the health service turns NOT_SERVING (open Watch streams are told, then ended), no
   * new call is accepted, calls in flight finish; after `graceMs` the rest are cancelled.
   */
  close(graceMs?: number): Promise<void>;
}

// A readiness answer is trusted for this long, so a burst of health checks costs one store ping.
const READINESS_CACHE_MS = 1000;

/** `100kb` -> 102400 (b, kb, mb; 1024-based, as Express reads BODY_LIMIT). */
export function byteSize(size: number | string): number {
  if (typeof size === 'number') return size;
  const match = /^(\d+)(b|kb|mb)?$/i.exec(size.trim());
  if (!match) throw new Error(`'${size}' is not a size such as 100kb`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

function hostForAddress(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Starts the gRPC server over `tender` (the engine the REST API uses). */
export async function startGrpcServer(tender: Tender, options: GrpcServerOptions): Promise<TenderGrpcServer> {
  const logger = redactingLogger(options.logger ?? silentLogger);
  const host = options.host ?? '127.0.0.1';
  const server = new Server({
    'grpc.max_receive_message_length': byteSize(options.maxReceiveMessageBytes ?? 100 * 1024),
  });
  const payments = addPaymentService(server, tender, options);

  // ---- Health: follows readiness; NOT_SERVING from the moment shutdown starts ----
  const health = new HealthImplementation({ '': 'NOT_SERVING', [PAYMENT_SERVICE_NAME]: 'NOT_SERVING' });
  let current: ServingStatus = 'NOT_SERVING';
  let shuttingDown = false;
  const setStatus = (status: ServingStatus) => {
    if (shuttingDown && status === 'SERVING') return;
    // Watchers are sent a message only when the status changes (as the protocol asks).
    if (status === current) return;
    current = status;
    health.setStatus('', status);
    health.setStatus(PAYMENT_SERVICE_NAME, status);
  };
  const ready = options.ready ?? (async () => undefined);
  let checking: Promise<void> | null = null;
  let checkedAt = 0;
  const refresh = (): Promise<void> => {
    if (checking) return checking;
    if (Date.now() - checkedAt < READINESS_CACHE_MS) return Promise.resolve();
    checking = ready()
      .then(
        () => setStatus('SERVING'),
        (error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'grpc health: not ready');
          setStatus('NOT_SERVING');
        },
      )
      .finally(() => {
        checkedAt = Date.now();
        checking = null;
      });
    return checking;
  };
  const watches = new Set<ServerWritableStream<unknown, unknown>>();
  let poll: NodeJS.Timeout | null = null;
  const stopPolling = () => {
    if (poll && watches.size === 0) {
      clearInterval(poll);
      poll = null;
    }
  };
  // The package's handlers answer from its status map; these wrappers bring the map up to date
  // first (Check) and keep it so while someone watches (Watch), and let shutdown end the watches.
  health.addToServer({
    addService(definition, implementation) {
      const base = implementation as Record<string, (...args: unknown[]) => void>;
      const wrapped: UntypedServiceImplementation = {
        ...implementation,
        check: (call: unknown, callback: unknown) => void refresh().then(() => base.check!(call, callback)),
        watch: (call: ServerWritableStream<unknown, unknown>) => {
          watches.add(call);
          const forget = () => {
            watches.delete(call);
            stopPolling();
          };
          call.on('cancelled', forget);
          call.on('finish', forget);
          poll ??= setInterval(() => void refresh(), options.healthIntervalMs ?? 5000);
          poll.unref();
          void refresh().then(() => base.watch!(call));
        },
      };
      server.addService(definition as Parameters<Server['addService']>[0], wrapped);
    },
  });

  // ---- Reflection over both services ----
  const healthIncludeDir = dirname(dirname(dirname(healthProtoPath)));
  const reflected = loadPaymentServiceDefinition({ files: ['health/v1/health.proto'], includeDirs: [healthIncludeDir] });
  // @grpc/reflection declares proto-loader 0.7 types; the definition object is the same shape.
  new ReflectionService(reflected as unknown as ConstructorParameters<typeof ReflectionService>[0]).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostForAddress(host)}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  await refresh();

  let closing: Promise<void> | null = null;
  return {
    address: `${hostForAddress(host)}:${port}`,
    port,
    server,
    close(graceMs = 25_000) {
      closing ??= (async () => {
        // Load balancers and orchestrators watching health learn first that this instance is going.
        setStatus('NOT_SERVING');
        shuttingDown = true;
        if (poll) clearInterval(poll);
        // A Watch never ends by itself and graceful shutdown waits for every call: end them (after
        // the NOT_SERVING just written, as the stream keeps its order).
        for (const call of watches) call.end();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, graceMs);
          force.unref();
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        payments.close();
      })();
      return closing;
    },
  };
}
