#!/usr/bin/python3
"""End-to-end test of the HTML pages in headless Chromium (issue 8); t/e2e.t runs it.

    /usr/bin/python3 t/e2e/browser.py --base http://localhost:8531 --mount /api \
        --guarded /e2e-private/ --mail-dir t/state/mail/e2e --shots t/artefacts/e2e/x \
        [--tap FILE]

One user goes through: register -> verify the address by the mailed link -> sign in
(from a guarded page, back to it) -> set up two-step sign-in with a code from oathtool
-> sign out -> sign in with a code -> forgot password -> reset by the mailed link ->
sign in with the new password and a code. Each step is one TAP line (to --tap, else
stdout); a failed step prints a diagnostic (URL, the head of the page source) and
skips the steps after it, which depend on it. Every page visited is saved as
--shots/NN-name.png. Waits are bounded: 10 s for a page, 20 s for a mail, and at
most one TOTP step (30 s) where a code must come from a later step than the last one
(the module refuses a code used before).

Uses Debian's chromium, chromium-driver and python3-selenium (4.8): run it with
/usr/bin/python3. The mailed links carry AuthsvcPublicURL (a host that does not
exist): the script opens their path and query on --base instead.
"""

import argparse
import base64
import email
import email.policy
import glob
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException, TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
WAIT = 10          # seconds: a page, an element
MAIL_WAIT = 20     # seconds: a mail in --mail-dir
TOTP_STEP = 30


def gone(element):
    """True once element is no longer in the document (the next page has replaced it).
    Chromium answers a lookup of a node of a page being replaced with a stale-element
    error or, mid-navigation, with an inspector error: both mean it is gone."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


class StepFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise StepFailed(what)


class E2E:
    def __init__(self, args):
        self.a = args
        self.base = args.base.rstrip('/')
        self.mount = '/' + args.mount.strip('/')
        self.guarded = args.guarded
        self.driver = None
        self.profile = None
        self.shot_no = 0
        self.used_mail = set()
        self.last_step = -1          # the TOTP step of the last code the module took
        self.console = []            # browser console entries over the whole run
        tag = '%x%s' % (int(time.time()), secrets.token_hex(3))
        self.email = 'e2e.%s@example.org' % tag
        self.username = 'e2e_%s' % tag
        self.password = 'E2e pass %s horse' % secrets.token_urlsafe(9)
        self.new_password = 'E2e new %s staple' % secrets.token_urlsafe(9)
        self.secret = None
        self.links = {}

    # ---- plumbing ------------------------------------------------------------------

    def url(self, path):
        return self.base + path

    def m(self, path):
        """A URL under the mount."""
        return self.base + self.mount + path

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def query(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.driver.current_url).query)

    def shot(self, name):
        self.shot_no += 1
        name = re.sub(r'[^A-Za-z0-9_-]+', '-', name).strip('-')
        file = os.path.join(self.a.shots, '%02d-%s.png' % (self.shot_no, name))
        try:
            self.save_page(file)
        except Exception as e:  # a screenshot is never worth a failed step
            sys.stderr.write('screenshot %s: %s\n' % (file, e))
        self.collect_console()

    def save_page(self, file):
        """The whole page (the account page is taller than the window), else the window."""
        try:
            m = self.driver.execute_cdp_cmd('Page.getLayoutMetrics', {})
            size = m.get('cssContentSize') or m['contentSize']
            w, h = int(size['width']), min(int(size['height']), 8000)
            shot = self.driver.execute_cdp_cmd('Page.captureScreenshot', {
                'format': 'png', 'captureBeyondViewport': True,
                'clip': {'x': 0, 'y': 0, 'width': w, 'height': h, 'scale': 1}})
            with open(file, 'wb') as fh:
                fh.write(base64.b64decode(shot['data']))
        except Exception:
            self.driver.save_screenshot(file)

    def collect_console(self):
        try:
            for e in self.driver.get_log('browser'):
                e['page'] = self.driver.current_url
                self.console.append(e)
        except Exception:
            pass

    def wait_loaded(self):
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.execute_script('return document.readyState') == 'complete')

    def get(self, url, name):
        self.driver.get(url)
        self.wait_loaded()
        self.shot(name)

    def by_id(self, id_, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout).until(
                EC.presence_of_element_located((By.ID, id_)))
        except TimeoutException:
            raise StepFailed('no element #%s on %s' % (id_, self.driver.current_url))

    def has(self, css):
        return len(self.driver.find_elements(By.CSS_SELECTOR, css)) > 0

    def text(self):
        return self.driver.find_element(By.TAG_NAME, 'body').text

    def error_text(self):
        els = self.driver.find_elements(By.ID, 'error')
        return els[0].text if els else None

    def no_error(self, where):
        err = self.error_text()
        check(err is None, '%s: the page shows an error: %r' % (where, err))

    def submit(self, form_id, values, name):
        """Fill a form's fields (by name), press its submit button, wait for the next page."""
        form = self.by_id(form_id)
        for field, value in values.items():
            try:
                el = form.find_element(By.NAME, field)
            except NoSuchElementException:
                raise StepFailed('#%s has no field named %r' % (form_id, field))
            el.clear()
            el.send_keys(value)
        buttons = form.find_elements(
            By.CSS_SELECTOR, 'button[type=submit], input[type=submit], button:not([type])')
        check(buttons, '#%s has no submit button' % form_id)
        old = self.driver.find_element(By.TAG_NAME, 'html')
        buttons[0].click()
        try:
            WebDriverWait(self.driver, WAIT).until(lambda d: gone(old))
        except TimeoutException:
            raise StepFailed('submitting #%s loaded no new page within %ds' % (form_id, WAIT))
        self.wait_loaded()
        self.shot(name)

    def at(self, path, what):
        check(self.path() == path,
              '%s: expected to be at %s, got %s' % (what, path, self.driver.current_url))

    # ---- mail ----------------------------------------------------------------------

    def wait_link(self, page):
        """The link to M/<page>?token=... of the newest new mail to our address."""
        want = '/' + page + '?token='
        deadline = time.time() + MAIL_WAIT
        while True:
            found = None
            files = sorted(glob.glob(os.path.join(self.a.mail_dir, '*')),
                           key=lambda f: (os.path.getmtime(f), f))
            for f in reversed(files):
                if f in self.used_mail or not os.path.isfile(f):
                    continue
                link = self.mail_link(f, want)
                if link:
                    found = (f, link)
                    break
            if found:
                self.used_mail.add(found[0])
                return self.rebase(found[1], page)
            if time.time() > deadline:
                raise StepFailed('no mail to %s with a %s link in %s within %ds' %
                                 (self.email, want, self.a.mail_dir, MAIL_WAIT))
            time.sleep(0.25)

    def mail_link(self, file, want):
        try:
            with open(file, 'rb') as fh:
                msg = email.message_from_binary_file(fh, policy=email.policy.default)
        except OSError:
            return None
        to = str(msg.get('To', ''))
        if self.email.lower() not in to.lower():
            return None
        for part in msg.walk():
            if part.get_content_type() not in ('text/plain', 'text/html'):
                continue
            try:
                body = part.get_content()
            except Exception:
                continue
            for link in re.findall(r'https?://[^\s<>"\']+', body):
                link = link.replace('&amp;', '&')
                if want in link:
                    return link
        return None

    def rebase(self, link, page):
        """The mailed link (AuthsvcPublicURL, a fake host) on --base and --mount."""
        u = urllib.parse.urlsplit(link)
        i = u.path.rfind('/' + page)
        check(i >= 0, 'the link %s has no /%s' % (link, page))
        return self.m(u.path[i:]) + ('?' + u.query if u.query else '')

    # ---- TOTP ----------------------------------------------------------------------

    def totp(self):
        """A code from oathtool, of a later step than the last code the module took."""
        deadline = time.time() + TOTP_STEP + 5
        while int(time.time()) // TOTP_STEP <= self.last_step:
            check(time.time() < deadline, 'the clock does not move on to a new TOTP step')
            time.sleep(0.25)
        for _ in range(3):
            before = int(time.time()) // TOTP_STEP
            out = subprocess.run(['oathtool', '--totp', '-b', self.secret],
                                 capture_output=True, text=True, timeout=10)
            after = int(time.time()) // TOTP_STEP
            check(out.returncode == 0, 'oathtool failed: %s' % out.stderr.strip())
            if before == after:
                code = out.stdout.strip()
                check(re.fullmatch(r'\d{6}', code), 'oathtool gave %r' % code)
                return code, after
        raise StepFailed('oathtool: no stable TOTP step')

    def enter_code(self, form_id, name):
        code, step = self.totp()
        self.submit(form_id, {'code': code}, name)
        self.last_step = step
        return code

    # ---- the steps -----------------------------------------------------------------

    def start(self):
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        self.profile = tempfile.mkdtemp(prefix='e2e-chromium-', dir=os.environ.get('TMPDIR'))
        for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                    '--disable-gpu', '--window-size=1200,1000', '--no-first-run',
                    '--no-default-browser-check', '--disable-extensions',
                    '--password-store=basic', '--user-data-dir=' + self.profile):
            o.add_argument(arg)
        o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_window_size(1200, 1000)
        v = self.driver.capabilities.get('browserVersion', '?')
        return 'Chromium %s headless' % v

    def register_form(self):
        self.get(self.m('/register'), 'register')
        form = self.by_id('register-form')
        for f in ('email', 'password', 'username', 'first_name', 'last_name', 'csrf_token'):
            check(form.find_elements(By.NAME, f), '#register-form has no field %r' % f)
        check(form.find_element(By.NAME, 'csrf_token').get_attribute('value'),
              '#register-form: the csrf_token field is empty')
        # The stylesheet is applied: the honeypot (class .hp) is not shown.
        for el in self.driver.find_elements(By.CSS_SELECTOR, '.hp'):
            check(not el.is_displayed(), 'the honeypot field (.hp) is visible: no stylesheet?')

    def register(self):
        self.submit('register-form', {
            'email': self.email, 'password': self.password, 'username': self.username,
            'first_name': 'Eve', 'last_name': 'Tester'}, 'register-done')
        self.no_error('register')
        check(not self.has('#register-form'),
              'register: the form is shown again (%s)' % self.text()[:300])

    def verify_mail(self):
        self.links['verify'] = self.wait_link('verify-email')
        return self.links['verify']

    def verify_get(self):
        tokens = []
        for n in (1, 2):
            self.get(self.links['verify'], 'verify-email-get%d' % n)
            self.no_error('verify-email GET %d' % n)
            form = self.by_id('verify-form')
            check(form.find_elements(By.CSS_SELECTOR, 'button, input[type=submit]'),
                  '#verify-form has no button')
            tokens.append(form.find_element(By.NAME, 'token').get_attribute('value'))
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(self.links['verify']).query)['token'][0]
        check(tokens == [token, token],
              'the hidden token is not the link\'s: %r vs %r' % (tokens, token))

    def verify_post(self):
        self.submit('verify-form', {}, 'verify-email-done')
        self.at(self.mount + '/verify-email', 'verify POST')
        self.no_error('verify-email POST (the GETs must not have used the token up)')
        check(not self.has('#verify-form'), 'verify-email: the button is still shown')
        check(self.has('[role=status]'), 'verify-email: no done message ([role=status])')

    def guarded_redirects(self, name):
        self.get(self.url(self.guarded), name)
        self.at(self.mount + '/login', 'the guarded page, signed out')
        rt = self.query().get('return_to', [None])[0]
        check(rt == self.guarded,
              'return_to is %r, expected %r' % (rt, self.guarded))
        self.by_id('login-form')

    def login_to_guarded(self):
        self.submit('login-form', {'login': self.email, 'password': self.password},
                    'guarded-page')
        self.at(self.guarded, 'sign-in from the guarded page')
        check('E2E PRIVATE PAGE' in self.text(),
              'the guarded page\'s text is missing: %r' % self.text()[:300])

    def account(self):
        self.get(self.m('/account'), 'account')
        self.at(self.mount + '/account', 'the account page')
        check(self.email in self.text(), 'the account page does not show %s' % self.email)
        self.by_id('mfa-begin-form')

    def mfa_begin(self):
        self.submit('mfa-begin-form', {}, 'mfa-setup')
        if self.path() == self.mount + '/login' and \
                self.query().get('prompt', [''])[0] == 'reauthenticate':
            # A fresh sign-in first, then back to the account page to begin again.
            self.submit('login-form', {'password': self.password}, 'mfa-reauthenticated')
            self.at(self.mount + '/account', 'after confirming the password')
            self.submit('mfa-begin-form', {}, 'mfa-setup')
        self.at(self.mount + '/account/mfa', 'MFA set-up')
        self.no_error('MFA set-up')
        check(self.driver.find_elements(By.CSS_SELECTOR, '#mfa-qr svg'),
              'no QR code (<svg> in #mfa-qr)')
        raw = self.by_id('mfa-secret').text
        self.secret = re.sub(r'[\s-]+', '', raw).upper()
        check(re.fullmatch(r'[A-Z2-7]{16,}=*', self.secret), 'the secret %r is not base32' % raw)
        self.by_id('mfa-confirm-form')

    def mfa_confirm(self):
        self.enter_code('mfa-confirm-form', 'mfa-recovery-codes')
        self.no_error('MFA confirm')
        codes = [e.text.strip() for e in
                 self.driver.find_elements(By.CSS_SELECTOR, 'li.recovery-code')]
        check(len(codes) == 10, '%d .recovery-code items, expected 10' % len(codes))
        check(all(codes) and len(set(codes)) == 10, 'recovery codes empty or repeated: %r' % codes)

    def account_mfa_on(self):
        self.get(self.m('/account'), 'account-mfa-on')
        check(not self.has('li.recovery-code'), 'the recovery codes are shown a second time')
        check(not self.has('#mfa-begin-form'), 'the set-up button is still shown')
        self.by_id('mfa-disable-form')

    def logout(self, name):
        self.get(self.m('/logout'), name)
        self.submit('logout-form', {}, name + '-done')
        self.at(self.mount + '/login', 'after signing out')
        check(self.query().get('logged_out') == ['1'],
              'no logged_out=1 in %s' % self.driver.current_url)

    def login_mfa_password(self):
        self.guarded_redirects('guarded-signed-out-2')
        self.submit('login-form', {'login': self.email, 'password': self.password},
                    'mfa-page')
        self.at(self.mount + '/mfa', 'the password of an account with MFA')
        rt = self.query().get('return_to', [None])[0]
        check(rt == self.guarded, 'M/mfa: return_to is %r, expected %r' % (rt, self.guarded))
        form = self.by_id('mfa-form')
        check(form.find_elements(By.NAME, 'code'), '#mfa-form has no code field')

    def login_mfa_code(self):
        waited = time.time()
        self.enter_code('mfa-form', 'mfa-guarded-page')
        waited = time.time() - waited
        self.at(self.guarded, 'the code (after %.0fs for a new TOTP step)' % waited)
        check('E2E PRIVATE PAGE' in self.text(), 'the guarded page\'s text is missing')

    def forgot(self):
        self.get(self.m('/forgot-password'), 'forgot-password')
        self.submit('forgot-form', {'email': self.email}, 'forgot-password-sent')
        self.no_error('forgot-password')
        check(self.has('#notice') or not self.has('#forgot-form'),
              'no "check your mail" answer (#notice, or no form): %r' % self.text()[:300])

    def reset_mail(self):
        self.links['reset'] = self.wait_link('reset-password')
        return self.links['reset']

    def reset(self):
        self.get(self.links['reset'], 'reset-password')
        self.no_error('reset-password GET')
        self.by_id('reset-form')
        self.submit('reset-form', {'password': self.new_password}, 'reset-password-done')
        self.no_error('reset-password POST')
        check(not self.has('#reset-form'), 'the reset form is shown again')
        check(self.driver.find_elements(By.CSS_SELECTOR, 'a[href*="/login"]'),
              'the done page has no link to sign in')

    def old_password_refused(self):
        self.get(self.m('/login'), 'login-old-password')
        self.submit('login-form', {'login': self.email, 'password': self.password},
                    'login-old-password-refused')
        self.at(self.mount + '/login', 'the old password')
        check(self.error_text(), 'no #error for the old password')

    def login_new_password(self):
        self.get(self.m('/login'), 'login-new-password')
        self.submit('login-form', {'login': self.email, 'password': self.new_password},
                    'login-new-password-mfa')
        self.at(self.mount + '/mfa', 'the new password')
        self.enter_code('mfa-form', 'account-final')
        self.at(self.mount + '/account', 'signed in without return_to')
        check(self.email in self.text(), 'the account page does not show %s' % self.email)

    def console_clean(self):
        self.collect_console()
        bad = [e for e in self.console
               if 'Content Security Policy' in e.get('message', '')
               or (e.get('level') == 'SEVERE' and 'favicon.ico' not in e.get('message', '')
                   and 'Failed to load resource' not in e.get('message', ''))]
        check(not bad, 'console: ' + '; '.join(
            '%s %s: %s' % (e.get('level'), e.get('page'), e.get('message')) for e in bad[:5]))
        failed_loads = [e for e in self.console
                        if 'Failed to load resource' in e.get('message', '')
                        and 'favicon.ico' not in e.get('message', '')]
        return '%d console entries, %d expected failed loads (error statuses)' % (
            len(self.console), len(failed_loads))

    def steps(self):
        return [
            ('Chromium starts headless', self.start),
            ('M/register shows #register-form with a CSRF token, honeypot hidden',
             self.register_form),
            ('registering by the form answers without an error', self.register),
            ('the verification mail has a /verify-email?token= link', self.verify_mail),
            ('the link (GET, twice) shows #verify-form with a button and the token',
             self.verify_get),
            ('the button verifies the address (done page, the GETs used nothing up)',
             self.verify_post),
            ('signed out, the guarded page redirects to M/login?return_to=<it>',
             lambda: self.guarded_redirects('guarded-signed-out')),
            ('signing in lands back on the guarded page', self.login_to_guarded),
            ('M/account shows the user and #mfa-begin-form', self.account),
            ('setting up MFA shows the QR code and #mfa-secret', self.mfa_begin),
            ('an oathtool code confirms MFA and shows 10 recovery codes', self.mfa_confirm),
            ('M/account then shows MFA on, without the recovery codes', self.account_mfa_on),
            ('M/logout signs out (to M/login?logged_out=1)', lambda: self.logout('logout')),
            ('signed out again, the password leads to M/mfa?return_to=<guarded>',
             self.login_mfa_password),
            ('a fresh oathtool code signs in and lands on the guarded page',
             self.login_mfa_code),
            ('M/logout signs out again', lambda: self.logout('logout-2')),
            ('M/forgot-password answers "check your mail"', self.forgot),
            ('the reset mail has a /reset-password?token= link', self.reset_mail),
            ('the reset link\'s form sets a new password (done page, sign-in link)',
             self.reset),
            ('the old password no longer signs in', self.old_password_refused),
            ('the new password and a code sign in to M/account showing the email',
             self.login_new_password),
            ('no CSP violations or script errors in the browser console', self.console_clean),
        ]

    # ---- TAP -----------------------------------------------------------------------

    def diag(self, out, text):
        for line in str(text).rstrip('\n').split('\n'):
            out.write('# %s\n' % line)

    def run(self, out):
        steps = self.steps()
        out.write('1..%d\n' % len(steps))
        out.flush()
        failed = None
        try:
            for n, (desc, fn) in enumerate(steps, 1):
                if failed is not None:
                    out.write('ok %d - %s # SKIP step %d failed\n' % (n, desc, failed))
                    continue
                try:
                    note = fn()
                    out.write('ok %d - %s\n' % (n, desc))
                    if isinstance(note, str) and note:
                        self.diag(out, note)
                except Exception as e:
                    failed = n
                    out.write('not ok %d - %s\n' % (n, desc))
                    if isinstance(e, StepFailed):
                        self.diag(out, e)
                    else:
                        self.diag(out, traceback.format_exc())
                    self.diag(out, 'user: %s' % self.email)
                    if self.driver is not None:
                        try:
                            self.shot('FAILED')
                            self.diag(out, 'URL: %s' % self.driver.current_url)
                            self.diag(out, 'page source (head):\n' +
                                      self.driver.page_source[:2500])
                        except Exception as e2:
                            self.diag(out, 'no page: %s' % e2)
                out.flush()
        finally:
            if self.driver is not None:
                try:
                    self.driver.quit()
                except Exception:
                    pass
            if self.profile:
                shutil.rmtree(self.profile, ignore_errors=True)
        return failed is None


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--base', required=True, help='http://host:port of the vhost')
    p.add_argument('--mount', default='/api')
    p.add_argument('--guarded', required=True, help='a path that needs a signed-in user')
    p.add_argument('--mail-dir', required=True)
    p.add_argument('--shots', required=True)
    p.add_argument('--tap', help='write the TAP here (default: stdout)')
    a = p.parse_args()
    os.makedirs(a.shots, exist_ok=True)
    for old in glob.glob(os.path.join(a.shots, '*.png')):
        os.unlink(old)
    out = open(a.tap, 'w') if a.tap else sys.stdout
    try:
        ok = E2E(a).run(out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
