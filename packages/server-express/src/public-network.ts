/**
 * Merchant webhook URLs are chosen by API callers, so the server must not become their way into the
 * network it runs in (cloud metadata at 169.254.169.254, databases on 10.x, admin ports on loopback).
 * Unless an operator allows private networks, deliveries only connect to public unicast addresses.
 * The check runs when the address is resolved for the connection, so a name that resolves to a
 * public address at registration and to a private one later (DNS rebinding) is refused all the same.
 *
 * @module
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { invalidRequest } from '@tender/core';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/** True for a public unicast address (not loopback, private, link-local, multicast, reserved...). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * Refuses a URL whose host is a non-public IP literal or `localhost` (names are checked again when
 * they are resolved, at each delivery).
 * @throws TenderError `invalid_request_error`/`private_webhook_url`.
 */
export function assertPublicUrl(url: string, param = 'url'): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const literal = ipaddr.isValid(host);
  if ((literal && !isPublicAddress(host)) || host === 'localhost' || host.endsWith('.localhost')) {
    throw invalidRequest('private_webhook_url', `Webhook URLs must reach a public address; ${host} is not one`, param);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup` that fails for a name with any non-public address. */
function publicLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked || addresses.length === 0) {
      const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${blocked?.address ?? 'nothing'}, which is not a public address`);
      refused.code = 'EPRIVATEADDRESS';
      return callback(refused, []);
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/** An undici dispatcher whose connections only reach public addresses. */
export function publicOnlyDispatcher(): Agent {
  return new Agent({ connect: { lookup: publicLookup as never } });
}
