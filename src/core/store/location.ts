import * as path from 'path';

/**
 * Where a workspace's store lives, relative to the workspace folder. Its own module, so that code that only needs
 * the path (`edd runs` in a folder without a store) does not load the store's engine.
 */
export const DEFAULT_STORE_RELATIVE_PATH = path.join('.edd', 'edd.sqlite');
