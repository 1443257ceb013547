-- Tender's database roles (least privilege: each process gets only the grants it uses), for one schema.
--
--   psql "$ADMIN_DATABASE_URL" -v schema=tender -f deploy/sql/roles.sql
--
-- Run it as a superuser or as the admin user of a managed Postgres (it needs CREATEROLE and must be
-- able to act as the owner role: superusers can; an admin with CREATEROLE first runs
-- `GRANT payment_service_owner TO CURRENT_USER`). It is idempotent: run it before the first migration,
-- and again after each `tender-server migrate` so the analytics role sees the new tables and columns
-- (the application role needs no re-run: default privileges cover what migrations add).
--
-- Roles (LOGIN, no password here: set one with psql's \password, which never sends it in clear text):
--   owner_role     (payment_service_owner)    owns the schema and every table; runs `tender-server migrate`.
--   app_role       (payment_service_app)      the server: SELECT/INSERT/UPDATE/DELETE on Tender's tables,
--                                             USAGE/SELECT on its sequences, EXECUTE on its functions.
--                                             No DDL (CREATE, ALTER, DROP), no TRUNCATE, REFERENCES or TRIGGER.
--   readonly_role  (payment_service_readonly) analytics: SELECT on every column except those listed in
--                                             analytics_hidden_columns; its sessions are read-only.
--
-- Variables (psql -v name=value), all optional:
--   schema                    Tender's schema (DATABASE_SCHEMA; default tender)
--   owner_role, app_role, readonly_role     role names (defaults above; roles are per cluster)
--   analytics_hidden_columns  table.column list the analytics role may not read. Default:
--     webhook_endpoints.secret   the key merchant webhooks are signed with
--     webhook_endpoints.url      a receiver's URL may carry its credentials
--     payments.customer          the payer's name, e-mail, phone (PII)
--     payments.next_action       Stripe client secrets, signed checkout forms and payment links
--     payments.gateway_data      gateway state, including the signed hosted-payment form
--     idempotency_keys.response  stored API responses: whole payments, with all of the above
--     outbox_events.data         event snapshots: whole payments, with all of the above
--     outbox_events.payload      the published event documents, likewise
--     saved_payment_methods.token         the gateway's reusable token a saved method is charged with
--     saved_payment_methods.wallet_email  a wallet's account e-mail (PII)
--     invoices.hosted_invoice_url         the gateway's page where anyone holding the link sees and pays the invoice
--   A migration that adds a column holding a secret or personal data adds it to this default.
--
-- The analytics role's grants are per column and never default privileges: a table or column a
-- later migration adds stays unreadable to it until this script runs again and applies the list.

\set ON_ERROR_STOP on
\if :{?schema}
\else
  \set schema tender
\endif
\if :{?owner_role}
\else
  \set owner_role payment_service_owner
\endif
\if :{?app_role}
\else
  \set app_role payment_service_app
\endif
\if :{?readonly_role}
\else
  \set readonly_role payment_service_readonly
\endif
\if :{?analytics_hidden_columns}
\else
  \set analytics_hidden_columns 'webhook_endpoints.secret,webhook_endpoints.url,payments.customer,payments.next_action,payments.gateway_data,idempotency_keys.response,outbox_events.data,outbox_events.payload,saved_payment_methods.token,saved_payment_methods.wallet_email,invoices.hosted_invoice_url'
\endif

-- Tender keeps its tables in a schema of its own (revoking PUBLIC's rights on `public` would reach
-- every other user of the database).
SELECT :'schema' = 'public' AS tender_schema_is_public \gset
\if :tender_schema_is_public
  DO $$ BEGIN RAISE EXCEPTION 'roles.sql: give Tender a schema of its own (-v schema=tender), not public'; END $$;
\endif

BEGIN;
SET LOCAL client_min_messages = warning;

-- The roles, when they do not exist yet (CREATE ROLE has no IF NOT EXISTS).
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY[:'owner_role', :'app_role', :'readonly_role']) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
-- Analytics sessions cannot write even through a function or a grant added by mistake.
ALTER ROLE :"readonly_role" SET default_transaction_read_only = on;

SELECT current_database() AS tender_database \gset
GRANT CONNECT ON DATABASE :"tender_database" TO :"owner_role", :"app_role", :"readonly_role";

-- The schema belongs to the owner, so `tender-server migrate` needs no CREATE on the database.
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner_role";
ALTER SCHEMA :"schema" OWNER TO :"owner_role";
-- A schema migrated by another role before this script (e.g. by postgres) is handed to the owner.
-- Identity sequences follow their table.
SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              n.nspname, c.relname, :'owner_role')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = :'schema' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
   AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner_role')
   AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
 ORDER BY c.oid \gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'owner_role')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = :'schema' AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner_role') \gexec

-- Start from nothing, so running the script again leaves exactly what it grants. Revoking a table
-- privilege revokes the same privilege on its columns.
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC, :"app_role", :"readonly_role";
REVOKE ALL ON ALL TABLES IN SCHEMA :"schema" FROM PUBLIC, :"app_role", :"readonly_role";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA :"schema" FROM PUBLIC, :"app_role", :"readonly_role";
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA :"schema" FROM PUBLIC, :"app_role", :"readonly_role";

-- Application role: data only. USAGE on the schema lets it name the tables, not create in it.
GRANT USAGE ON SCHEMA :"schema" TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app_role";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA :"schema" TO :"app_role";
-- The migration history is the owner's to write; the server only reads it (to see it is up to date).
SELECT format('REVOKE INSERT, UPDATE, DELETE ON %s FROM %I', t, :'app_role')
  FROM to_regclass(format('%I.schema_migrations', :'schema')) AS t WHERE t IS NOT NULL \gexec
-- ...and the same on whatever later migrations (run as the owner) create.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema" GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema" GRANT EXECUTE ON FUNCTIONS TO :"app_role";
-- Functions are executable by PUBLIC unless revoked, and that default can only be revoked for all
-- of the owner's schemas at once (the owner role is Tender's alone).
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Analytics role: SELECT, column by column, on every column but the hidden ones.
GRANT USAGE ON SCHEMA :"schema" TO :"readonly_role";
SELECT format('GRANT SELECT (%s) ON %I.%I TO %I',
              string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum), n.nspname, c.relname, :'readonly_role')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = :'schema' AND c.relkind IN ('r', 'p', 'v', 'm')
   AND NOT (c.relname || '.' || a.attname = ANY (string_to_array(replace(:'analytics_hidden_columns', ' ', ''), ',')))
 GROUP BY n.nspname, c.relname
 ORDER BY c.relname \gexec

COMMIT;
