/**
 * Where the rig keeps what is slow to make and safe to reuse across runs (the Debian
 * template, the rig CA, the internet's package cache): outside the repository, so a fresh
 * clone reuses it and `git clean` never throws it away. PROXIMITY_TEST_CACHE moves it.
 */
export const cacheDir = process.env.PROXIMITY_TEST_CACHE ?? '/var/cache/proximity-test';
