# mod_authsvc - build, run, test.
#
#   make          build mod_authsvc.so and tools/authsvc-admin
#   make run      install what is missing (Debian), build, start the demo on :8080
#   make stop     stop the demo
#   make test     the whole suite: unit tests, then Apache::Test on SQLite and
#                 PostgreSQL, each under the event and the prefork MPM (the SQLite/event
#                 run with the ASan+UBSan module), then the valgrind short suite
#   make asan     build .asan/mod_authsvc.so: the module with ASan and UBSan
#   make test-asan      the whole Apache::Test suite (SQLite, event) against
#                 .asan/mod_authsvc.so; fails on any sanitizer report
#   make test-valgrind  a short suite against httpd -X under valgrind; fails on a
#                 definite leak or an invalid access
#   make bench    throughput figures (see docs/operations.md)
#   make soak     1,000,000 mixed requests, the children's memory every 100,000
#   make install  install the module and its Debian conf files (a2enmod authsvc)
#   make deb      build libapache2-mod-authsvc_<version>_<arch>.deb here (debian/)
#   make fuzz     the libFuzzer targets (t/fuzz/), FUZZ_SECONDS each (60), FUZZ_JOBS
#                 at a time (2); make fuzz-build only compiles them (clang-14)

APXS      ?= apxs
CC        ?= cc
PERL      ?= perl
WARN      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
LIBS      = -ljansson -largon2 -lcrypto -lcurl -loath -lqrencode -lfido2 -lcbor -laprutil-1 -lapr-1

SRCS      = $(wildcard src/*.c)
GEN       = src/migrations_data.c src/blocklist_data.c src/mail_data.c src/page_data.c \
            src/i18n_data.c
HDRS      = $(wildcard src/*.h)
SQL       = $(wildcard sql/sqlite/*.sql sql/pgsql/*.sql)

APR_INC   = $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null) \
            $(shell apu-1-config --includes 2>/dev/null)
APR_LD    = $(shell apu-1-config --link-ld 2>/dev/null) $(shell apr-1-config --link-ld 2>/dev/null)

# The httpd-free units tools/ reuses (no httpd header in any of them).
PURE      = src/migrate.c $(filter-out src/page_data.c src/i18n_data.c,$(GEN)) src/password.c src/text.c src/policy.c src/breach.c src/crypto.c \
            src/json.c src/jwt.c src/secretbox.c src/template.c src/returnto.c
# ... and the other httpd-free units the C unit tests (t/unit/run.sh) link.
UNIT_SRCS = $(sort $(PURE) src/credparse.c src/mail.c src/mail_transport.c src/ratelimit.c src/totp.c \
            src/qr.c src/webauthn.c src/i18n.c src/i18n_data.c)

.PHONY: all run stop test unit bench soak install clean deps check-docs deb fuzz fuzz-build \
        fuzz-cc asan test-asan test-valgrind

all: mod_authsvc.so tools/authsvc-admin

src/migrations_data.c: tools/embed-sql.pl $(SQL)
	$(PERL) tools/embed-sql.pl $@

# The shipped password blocklist, lower-cased and sorted for a binary search.
src/blocklist_data.c: tools/embed-blocklist.pl conf/common-passwords.txt
	$(PERL) tools/embed-blocklist.pl conf/common-passwords.txt $@

# The default mail templates (AuthsvcMailTemplates overrides them file by file).
src/mail_data.c: tools/embed-templates.pl $(wildcard conf/mail/*)
	$(PERL) tools/embed-templates.pl mail conf/mail $@

# The default page templates and stylesheet (AuthsvcTemplates overrides them).
src/page_data.c: tools/embed-templates.pl $(wildcard conf/templates/*)
	$(PERL) tools/embed-templates.pl pages conf/templates $@

# The shipped message catalogues (AuthsvcI18nDir adds and overrides).
src/i18n_data.c: tools/embed-templates.pl $(wildcard conf/i18n/*)
	$(PERL) tools/embed-templates.pl i18n conf/i18n $@

mod_authsvc.so: mod_authsvc.c $(SRCS) $(GEN) $(HDRS)
	$(APXS) -c -o mod_authsvc.la $(addprefix -Wc$(comma),$(WARN)) \
	    mod_authsvc.c $(sort $(SRCS) $(GEN)) $(LIBS) >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	@cp .libs/mod_authsvc.so $@.tmp && mv -f $@.tmp $@
	@echo "built $@"

comma := ,

# The module with AddressSanitizer and UndefinedBehaviorSanitizer, for make test-asan
# and the sanitized run of make test (tools/dev/httpd-asan.sh preloads libasan into an
# uninstrumented httpd). Built from a copy of the sources under .asan/build, because
# apxs leaves its objects beside the sources and would mix them with the plain build's.
# UBSan recovers (prints and goes on): one run lists every report, and the suite fails
# on their files afterwards. ASan stops the process at its first report (its default).
ASAN_FLAGS = -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -U_FORTIFY_SOURCE

asan: .asan/mod_authsvc.so

.asan/mod_authsvc.so: mod_authsvc.c $(SRCS) $(GEN) $(HDRS)
	@rm -rf .asan/build && mkdir -p .asan/build/src
	@cp mod_authsvc.c .asan/build/ && cp $(sort $(SRCS) $(GEN) $(HDRS)) .asan/build/src/
	cd .asan/build && $(APXS) -c -o mod_authsvc.la \
	    $(addprefix -Wc$(comma),$(WARN) $(ASAN_FLAGS)) \
	    $(addprefix -Wl$(comma),-fsanitize=address$(comma)undefined) \
	    mod_authsvc.c $(addprefix src/,$(sort $(notdir $(SRCS) $(GEN)))) $(LIBS) >../build.log 2>&1 \
	    || { cat ../build.log; exit 1; }
	@cp .asan/build/.libs/mod_authsvc.so $@.tmp && mv -f $@.tmp $@
	@echo "built $@"

# authsvc-admin: its main file, tools/admin/*.c and the pure units. CPPFLAGS, CFLAGS
# and LDFLAGS (empty unless given; debian/rules passes dpkg-buildflags' hardening)
# come after the defaults, so that they can override them.
ADMIN_SRCS = tools/authsvc-admin.c $(sort $(wildcard tools/admin/*.c))

tools/authsvc-admin: $(ADMIN_SRCS) tools/admin/admin.h $(PURE) $(HDRS)
	$(CC) $(WARN) -O2 -g $(CPPFLAGS) $(CFLAGS) $(APR_INC) -Isrc -o $@ $(ADMIN_SRCS) \
	    $(sort $(PURE)) $(LDFLAGS) $(APR_LD) -ljansson -largon2 -lcrypto

deps:
	@tools/dev/deps.sh

run: deps all
	@tools/dev/run.sh start

stop:
	@tools/dev/run.sh stop

unit: $(GEN)
	@t/unit/run.sh

test: deps all asan
	@tools/dev/test.sh

# One run each, without step 1 of test.sh (unit tests, package, docs).
test-asan: deps all asan
	@AUTHSVC_TEST_RUNS=sqlite:event:asan AUTHSVC_TEST_SKIP_PRE=1 tools/dev/test.sh

test-valgrind: deps all
	@AUTHSVC_TEST_RUNS=sqlite:prefork:valgrind AUTHSVC_TEST_SKIP_PRE=1 tools/dev/test.sh

bench: deps all
	@tools/dev/bench.sh

soak: deps all
	@BENCH_SECTIONS=soak tools/dev/bench.sh

# libFuzzer targets for the parsers of untrusted input among the pure units (see
# t/fuzz/README.md). The units are built once with ASan+UBSan and coverage into
# t/fuzz/build/obj, each t/fuzz/fuzz_<name>.c is linked against all of them.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined -g -O1
FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(FUZZ_SAN) $(APR_INC) \
               -Isrc -It/fuzz
FUZZ_TARGETS = $(basename $(notdir $(wildcard t/fuzz/fuzz_*.c)))
FUZZ_OBJS    = $(patsubst src/%.c,t/fuzz/build/obj/%.o,$(UNIT_SRCS))

t/fuzz/build/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

t/fuzz/build/fuzz_%: t/fuzz/fuzz_%.c t/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(APR_LD) \
	    -ljansson -largon2 -lcrypto -lcurl -loath -lqrencode -lfido2 -lcbor

.SECONDARY: $(FUZZ_OBJS)

fuzz-build: fuzz-cc $(GEN) $(addprefix t/fuzz/build/,$(FUZZ_TARGETS))

fuzz-cc:
	@command -v $(FUZZ_CC) >/dev/null || \
	    { echo "make fuzz needs $(FUZZ_CC) and libFuzzer: run tools/dev/deps.sh as root"; exit 1; }

# Each target for FUZZ_SECONDS, FUZZ_JOBS at a time, on its seed corpus (read only: what
# a run finds goes to t/fuzz/build/new/<target>); FUZZ_TARGETS= narrows the set. Exits
# non-zero on any crash, leak, UBSan report, timeout or out-of-memory (t/fuzz/run.sh).
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) t/fuzz/run.sh $(FUZZ_TARGETS)

check-docs:
	@tools/dev/check-docs.sh

# DESTDIR stages everything, the module too (make deb stages through it).
install: all
	install -d $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)
	install -m 644 mod_authsvc.so $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)/mod_authsvc.so
	install -d $(DESTDIR)/etc/apache2/mods-available $(DESTDIR)/usr/sbin
	install -m 644 conf/authsvc.load conf/authsvc.conf $(DESTDIR)/etc/apache2/mods-available/
	install -m 755 tools/authsvc-admin $(DESTDIR)/usr/sbin/authsvc-admin
	install -d $(DESTDIR)/usr/share/man/man8
	install -m 644 docs/authsvc-admin.8 $(DESTDIR)/usr/share/man/man8/authsvc-admin.8
	install -d $(DESTDIR)/usr/share/doc/libapache2-mod-authsvc
	install -m 644 docs/*.md $(DESTDIR)/usr/share/doc/libapache2-mod-authsvc/
	install -d $(DESTDIR)/usr/share/authsvc/templates $(DESTDIR)/usr/share/authsvc/mail
	install -m 644 conf/templates/* $(DESTDIR)/usr/share/authsvc/templates/
	install -m 644 conf/mail/* $(DESTDIR)/usr/share/authsvc/mail/
	install -d $(DESTDIR)/usr/share/authsvc/i18n
	install -m 644 conf/i18n/* $(DESTDIR)/usr/share/authsvc/i18n/

# debian/rules binary: make (with dpkg-buildflags), make install DESTDIR=, debhelper
# (see debian/rules).
deb:
	@command -v dh >/dev/null || { echo "make deb needs debhelper: apt-get install debhelper"; exit 1; }
	@rm -f libapache2-mod-authsvc_*.deb
	debian/rules binary >deb.log 2>&1 || { cat deb.log; exit 1; }
	@debian/rules clean >>deb.log 2>&1
	@ls libapache2-mod-authsvc_*.deb

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs $(GEN) .asan \
	    mod_authsvc.so tools/authsvc-admin t/unit/build t/fuzz/build build.log deb.log \
	    libapache2-mod-authsvc_*.deb
