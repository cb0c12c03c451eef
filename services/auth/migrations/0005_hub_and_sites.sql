-- Hub and sites (docs/sites.md): the tables and triggers that let a hub publish the identities
-- and every site publish its own local rows. The same script runs everywhere, in every mode; which
-- table replicates which way is decided in src/db/replication.ts, never here.
--
-- Rules for this and every later migration: a migration never INSERTs rows into a table the hub
-- publishes (a site's copy would collide with the hub's rows), and trigger bodies stay on one line
-- (the runner splits statements on semicolons at line ends).

-- Rows of site-local tables reach the hub, so keys must not repeat across sites. The audit log
-- keeps its numeric ids (each site numbers from its own range, see SiteService) and records the
-- site; '' is the hub itself or a single installation. Listing is by time, which interleaves sites.
ALTER TABLE audit_events ADD COLUMN site text NOT NULL DEFAULT '';
CREATE INDEX audit_events_at_idx ON audit_events (at, id);
CREATE INDEX audit_events_user_at_idx ON audit_events (user_id, at, id);

-- Failed-attempt state is counted where the attempts happen: one row per site.
ALTER TABLE attempt_counters ADD COLUMN site text NOT NULL DEFAULT '';
ALTER TABLE attempt_counters DROP CONSTRAINT attempt_counters_pkey;
ALTER TABLE attempt_counters ADD PRIMARY KEY (site, scope, key);
CREATE INDEX attempt_counters_key_idx ON attempt_counters (scope, key);

-- A site never writes the replicated users table; its sign-ins are stamped here instead.
CREATE TABLE last_logins (
  site text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, user_id)
);
CREATE INDEX last_logins_user_idx ON last_logins (user_id);

-- An administrator's unlock at the hub, replicated so that every site clears its own lock.
CREATE TABLE account_unlocks (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  unlocked_at timestamptz NOT NULL DEFAULT now()
);

-- Stamped by the hub every few seconds; a site's staleness is its clock minus the stamp it holds.
CREATE TABLE replication_heartbeat (
  id integer PRIMARY KEY CHECK (id = 1),
  at timestamptz NOT NULL
);

-- A site writes a mark inside each of its transactions at the hub: when the mark shows up in the
-- site's own copy, so has everything else that transaction wrote (read-your-writes).
CREATE TABLE replication_marks (
  id uuid PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now()
);

-- Kept at the hub: the sites that registered, each with the number of its audit id range and the
-- database instance that registered it (a second database under the same name is refused).
CREATE TABLE sites (
  name text PRIMARY KEY,
  number integer NOT NULL UNIQUE CHECK (number BETWEEN 1 AND 2047),
  instance uuid NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Replica triggers fire only inside PostgreSQL's logical replication apply worker, i.e. at a site
-- applying the hub's changes; local writes and the hub itself never fire them. The apply worker
-- runs with an empty search_path and without foreign-key actions, hence SET search_path and the
-- explicit deletes that a cascade would otherwise do.

-- The 1:N index follows replicated templates as it follows local ones (TemplateService LISTENs).
CREATE FUNCTION faceline_replicated_template() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN IF TG_OP = 'DELETE' THEN PERFORM pg_notify('faceline_templates', json_build_object('userId', OLD.user_id)::text); ELSE PERFORM pg_notify('faceline_templates', json_build_object('userId', NEW.user_id)::text); END IF; RETURN NULL; END $$;
CREATE TRIGGER face_templates_replicated AFTER INSERT OR UPDATE OR DELETE ON face_templates FOR EACH ROW EXECUTE FUNCTION faceline_replicated_template();
ALTER TABLE face_templates ENABLE REPLICA TRIGGER face_templates_replicated;

-- An account deleted at the hub takes its sessions, grants and attempt state at the site with it.
CREATE FUNCTION faceline_replicated_user_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = OLD.id); DELETE FROM sessions WHERE user_id = OLD.id; DELETE FROM login_grants WHERE user_id = OLD.id; DELETE FROM last_logins WHERE user_id = OLD.id; DELETE FROM attempt_counters WHERE scope = 'user' AND key = OLD.id::text; PERFORM pg_notify('faceline_templates', json_build_object('userId', OLD.id)::text); RETURN NULL; END $$;
CREATE TRIGGER users_replicated_delete AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION faceline_replicated_user_deleted();
ALTER TABLE users ENABLE REPLICA TRIGGER users_replicated_delete;

-- An unlock from the hub clears the lock this site counted.
CREATE FUNCTION faceline_replicated_unlock() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN DELETE FROM attempt_counters WHERE scope = 'user' AND key = NEW.user_id::text; RETURN NULL; END $$;
CREATE TRIGGER account_unlocks_replicated AFTER INSERT OR UPDATE ON account_unlocks FOR EACH ROW EXECUTE FUNCTION faceline_replicated_unlock();
ALTER TABLE account_unlocks ENABLE REPLICA TRIGGER account_unlocks_replicated;

-- At a site, statement triggers with this function (created by the site's replication setup) make
-- the hub's tables read-only for local writers, so the copy cannot drift from the hub. Migrations
-- set faceline.migrating for their own transaction and pass.
CREATE FUNCTION faceline_refuse_local_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF current_setting('faceline.migrating', true) = 'on' THEN RETURN NULL; END IF; RAISE EXCEPTION 'table % is a copy of the hub at this site: change it at the hub', TG_TABLE_NAME USING ERRCODE = 'FL001'; END $$;
