/** Connected apps end to end on SQLite (issue 17). */
import { defineConnectedSuite } from './connected-suite.js';

defineConnectedSuite('sqlite', async () => ({}));
