/** Issue 6 sharing suite against a key service on SQLite. */
import { defineSharingSuite } from './sharing-suite.js';

defineSharingSuite('sqlite', async () => ({}));
