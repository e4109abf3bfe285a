#!/usr/bin/perl
# A local redirect: httpd serves the page by an internal redirect (t/guard_backend.t).
print "Location: /gb/ssi/whoami.shtml\r\n\r\n";
