#!/usr/bin/python3
"""End-to-end test of passkeys in headless Chromium (issue 11); t/e2e_passkey.t runs it.

    /usr/bin/python3 t/e2e/passkey.py --base http://localhost:PORT --mount /api \
        --guarded /tg/mfa/ --shots DIR [--tap FILE]

Chromium's virtual authenticator (DevTools WebAuthn domain: CTAP2, internal transport,
resident keys, user verification) stands in for a phone: a new user registers and signs
in with a password, adds a passkey on the account page, signs out, signs in with the
passkey from a page behind `Require authsvc mfa` and lands back on it; then the
credential's signature counter is rewound (removed and added again with signCount 0)
and the next passkey sign-in is refused. --base must be AuthsvcPublicURL's origin.
The steps, TAP and screenshots are browser.py's (its E2E class).
"""

import argparse
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browser import E2E, StepFailed, check  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 15


class PasskeyE2E(E2E):
    def __init__(self, args):
        super().__init__(args)
        self.auth_id = None

    def cdp(self, cmd, params=None):
        return self.driver.execute_cdp_cmd(cmd, params or {})

    def authenticator(self):
        self.cdp('WebAuthn.enable', {'enableUI': False})
        self.auth_id = self.cdp('WebAuthn.addVirtualAuthenticator', {'options': {
            'protocol': 'ctap2', 'transport': 'internal', 'hasResidentKey': True,
            'hasUserVerification': True, 'isUserVerified': True,
            'automaticPresenceSimulation': True}})['authenticatorId']
        return 'authenticator %s' % self.auth_id

    def credentials(self):
        return self.cdp('WebAuthn.getCredentials', {'authenticatorId': self.auth_id})['credentials']

    def login_password(self):
        self.get(self.m('/login'), 'login')
        if self.path() != self.mount + '/login':
            return 'signed in by the registration already'
        self.submit('login-form', {'login': self.email, 'password': self.password}, 'signed-in')
        self.no_error('sign-in with the password')

    def wait_for(self, cond, what):
        try:
            WebDriverWait(self.driver, WAIT).until(lambda d: cond())
        except TimeoutException:
            self.collect_console()
            raise StepFailed('%s: not within %ds (at %s; status %r; console %r)' % (
                what, WAIT, self.driver.current_url, self.status(),
                [e.get('message') for e in self.console[-5:]]))

    def status(self):
        els = self.driver.find_elements(By.ID, 'passkey-status')
        return els[0].text if els else None

    def add_passkey(self):
        self.get(self.m('/account'), 'account')
        box = self.by_id('passkey-add')
        self.wait_for(lambda: box.is_displayed(), 'the script shows the add block')
        self.by_id('passkey-new-name').send_keys('Virtual phone')
        self.by_id('passkey-add-button').click()
        self.wait_for(lambda: 'done=passkey_added' in self.driver.current_url,
                      'the account page again after adding')
        self.wait_loaded()
        self.shot('passkey-added')
        check('Virtual phone' in self.driver.page_source, 'the new passkey is not listed')
        creds = self.credentials()
        check(len(creds) == 1 and creds[0].get('isResidentCredential'),
              'the authenticator holds %r' % creds)
        check(creds[0].get('rpId') == 'localhost', 'rpId %r' % creds[0].get('rpId'))

    def passkey_to_guarded(self):
        self.guarded_redirects('guarded-signed-out')
        box = self.by_id('passkey-signin')
        self.wait_for(lambda: box.is_displayed(), 'the script shows the passkey button')
        self.by_id('passkey-signin-button').click()
        self.wait_for(lambda: self.path() == self.guarded, 'back on the guarded page')
        self.wait_loaded()
        self.shot('guarded-with-passkey')
        check('authsvc-guard-page' in self.driver.page_source,
              'the guarded page\'s text is missing: %r' % self.text()[:300])
        return 'signature counter now %d' % self.credentials()[0]['signCount']

    def rewind_counter(self):
        c = self.credentials()[0]
        check(c['signCount'] > 0, 'the authenticator counts (%r)' % c['signCount'])
        self.cdp('WebAuthn.removeCredential', {'authenticatorId': self.auth_id,
                                               'credentialId': c['credentialId']})
        c2 = {k: c[k] for k in ('credentialId', 'isResidentCredential', 'rpId',
                                'privateKey', 'userHandle') if k in c}
        c2['signCount'] = 0
        self.cdp('WebAuthn.addCredential', {'authenticatorId': self.auth_id, 'credential': c2})
        check(self.credentials()[0]['signCount'] == 0, 'the counter is not rewound')

    def regression_refused(self):
        self.guarded_redirects('guarded-signed-out-2')
        box = self.by_id('passkey-signin')
        self.wait_for(lambda: box.is_displayed(), 'the script shows the passkey button')
        self.by_id('passkey-signin-button').click()
        self.wait_for(lambda: self.status(), 'a message after the refused sign-in')
        self.shot('counter-regression')
        self.at(self.mount + '/login', 'after the refused sign-in')
        self.get(self.url(self.guarded), 'guarded-still-signed-out')
        self.at(self.mount + '/login', 'the guarded page after the refusal')
        return 'message: %s' % self.status()

    def steps(self):
        return [
            ('Chromium starts headless', self.start),
            ('a virtual authenticator (CTAP2, internal, resident keys, UV)',
             self.authenticator),
            ('M/register shows #register-form', self.register_form),
            ('registering by the form', self.register),
            ('sign-in with the password', self.login_password),
            ('account page: Add a passkey registers one', self.add_passkey),
            ('sign out', lambda: self.logout('logout')),
            ('Sign in with a passkey from a Require authsvc mfa page, back to it',
             self.passkey_to_guarded),
            ('sign out again', lambda: self.logout('logout-2')),
            ('the credential\'s counter rewound to 0', self.rewind_counter),
            ('a passkey sign-in with a lower counter is refused', self.regression_refused),
            ('no script or CSP error in the console', self.console_clean),
        ]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--base', required=True)
    p.add_argument('--mount', default='/api')
    p.add_argument('--guarded', required=True)
    p.add_argument('--shots', required=True)
    p.add_argument('--tap')
    a = p.parse_args()
    a.mail_dir = None
    os.makedirs(a.shots, exist_ok=True)
    for old in glob.glob(os.path.join(a.shots, '*.png')):
        os.unlink(old)
    out = open(a.tap, 'w') if a.tap else sys.stdout
    try:
        ok = PasskeyE2E(a).run(out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
