#!/usr/bin/perl
# The helper behind createTmpfsMounter (call-tmpfs.ts): a long-lived process on the HOST that makes
# the mount(2)/umount2(2) calls for bwrap calls' /tmp itself. Perl, not TypeScript: Node has no
# mount(2) without a native addon, and perl is Essential on Debian, so this runs wherever the
# runtime does. `mount` and `umount` are ~4 ms each, mostly their own start-up; a request to the
# running helper is ~0.1 ms, and the unmount after a call no longer competes for a core with the
# next call. call-tmpfs.ts runs it with `perl -e` from tmpfs-mounter-script.generated.ts (made from
# this file by scripts/standalone-bundles.mjs); a unit test checks it with `perl -c`.
#
# Argument: the source name the tmpfs mounts get (what /proc/self/mountinfo shows).
# Request (stdin, one per line): `<id> mount <dir> <bytes>`, `<id> bind <dir> <source>` or `<id> umount <dir>`.
# Reply (stdout): `<id> ok` or `<id> err <reason>`.
# Syscall numbers are x86_64 (like the backend's seccomp compiler): mount 165, umount2 166.
# Flags: MS_NOSUID|MS_NODEV|MS_NOEXEC (14); a bind is MS_BIND (4096), not recursive (only that
# directory, no mount below it); MNT_DETACH (2) when busy. Errno values are x86_64 Linux's too,
# as numbers: the %! hash would load Errno.pm, ~1 ms of a start that a call may be waiting for.
use strict; use warnings;
my ($ENOENT, $ENOTDIR, $EBUSY, $EINVAL) = (2, 20, 16, 22);
my $source = shift @ARGV;
$| = 1;
while (my $line = <STDIN>) {
  chomp $line;
  my ($id, $op, $dir, $size) = split / /, $line;
  my $err = '';
  if ($op eq 'mount' || $op eq 'bind') {
    my $p = '';
    for my $part (grep { length } split m{/}, $dir) {
      $p .= "/$part";
      next if -d $p;
      if (mkdir($p)) { chmod(0711, $p); } else { $err = "mkdir $p: $!"; last; }
    }
    if (!$err && $op eq 'mount') {
      my ($src, $type, $opts) = ($source, 'tmpfs', "size=$size,mode=1777");
      syscall(165, $src, $dir, $type, 14, $opts) == 0 or $err = "mount: $!";
    } elsif (!$err) {
      my ($src, $type, $opts) = ($size, 'none', '');
      syscall(165, $src, $dir, $type, 4096, $opts) == 0 or $err = "bind: $!";
    }
  } elsif ($op eq 'umount') {
    if (syscall(166, $dir, 0) != 0) { $err = "umount: $!" unless $! == $EINVAL || $! == $ENOENT; $err = '' if $! == $EBUSY && syscall(166, $dir, 2) == 0; }
    rmdir($dir) or $! == $ENOENT or $! == $ENOTDIR or $err ||= "rmdir: $!";
  } else { $err = "unknown request $op"; }
  print $err eq '' ? "$id ok\n" : "$id err $err\n";
}
