#!/usr/bin/perl
# Prints the CGI environment, one NAME=VALUE line each, sorted (t/guard_backend.t);
# also the backend of the /gp/ reverse proxies.
use strict;
use warnings;

print "Content-Type: text/plain\r\n\r\n";
for my $k (sort keys %ENV) {
    (my $v = $ENV{$k}) =~ s/\n/\\n/g;
    print "$k=$v\n";
}
