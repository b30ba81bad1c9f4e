// PostGraphile 5 as ../../shared/bench/WORKLOAD.md set it up for the peer measurements:
// the Amber preset with the connection-filter plugin (core v5 filters by equality only),
// PgIndexBehaviorsPlugin disabled (otherwise columns without an index are not filterable),
// one process, no auth, the `public` schema of DATABASE_URL, served at /graphql on PORT.
// bench/peers/postgraphile.py starts it with NODE_ENV=production; nothing here is tuned.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT), graphqlPath: "/graphql" },
};

export default preset;
