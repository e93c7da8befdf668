#!/usr/bin/env node
// Prints a GramJS StringSession (npm telegram, pinned in package.json) for a fixed fake session:
// dc 2, 127.0.0.1:10443, auth key bytes (4 + i) % 256. Written to sessions/gramjs_string.txt by
// session_check.sh; the C tests of src/telegram/ read that file.
'use strict';
const { StringSession } = require('telegram/sessions');
const { AuthKey } = require('telegram/crypto/AuthKey');

(async () => {
    const s = new StringSession('');
    s.setDC(2, '127.0.0.1', 10443);
    const k = new AuthKey();
    await k.setKey(Buffer.from(Array.from({ length: 256 }, (_, i) => (4 + i) % 256)));
    s.authKey = k;
    process.stdout.write(s.save() + '\n');
})();
