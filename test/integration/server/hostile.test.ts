/**
 * Issue 18: no input ever gets a 5xx. The generated hostile-input sweep
 * (test/hostile/) over every route of the key service on SQLite, plus limits
 * and encodings over real HTTP. `npm run test:hostile -- --runs N` runs more.
 */
import { defineHostileSuite } from '../../hostile/sweep.js';
import { routeTable } from '../../hostile/server.js';
import { defineRealHttpChecks } from '../../hostile/real-http.js';

const routes = await routeTable();
defineHostileSuite('sqlite', routes, () => ({}), (target) => defineRealHttpChecks(routes, target));
