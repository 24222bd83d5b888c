#!/usr/bin/perl
# The reaper's watchdog for a runtime with no Docker engine to watch (the bwrap backend, or only a
# runtime directory): watchdog.ts's job without its containers, in perl because perl starts in a
# few milliseconds where node takes ~35 ms of CPU, and a one-shot `bastion exec --backend bwrap`
# pays for that start on its own path (issue 26). reaper.ts runs it with `perl -e` from
# watchdog-perl-script.generated.ts (made from this file by scripts/standalone-bundles.mjs) when
# perl is on PATH, else watchdog.ts; a unit test checks it with `perl -c`.
#
# Protocol, as watchdog.ts: it writes "ready\n" once it holds the pipe, then reads stdin until it
# closes. A closed stdin means the runtime is gone (normal exit, crash or SIGKILL alike): it kills
# and removes the session's bwrap cgroups, unmounts the session's bwrap /tmp mounts, and removes the
# runtime's per-call directories once that process is gone, then exits.
#
# Arguments, in pairs: `cgroup <session dir>` (one per hierarchy), `tmpfs <session dir>`,
# `calldirs <root> <pid>-<start>`. umount2 is syscall 166 with MNT_DETACH (2), and ENOENT is 2,
# x86_64 Linux's numbers as in tmpfs-mounter.pl. Nothing beyond strict and warnings is loaded before
# "ready" (File::Path alone costs ~9 ms of start-up, Errno ~1 ms): only the sweep needs more.
use strict; use warnings;
my $ENOENT = 2;

my (@cgroups, $tmpfs, $call_root, $stamp);
while (@ARGV) {
  my $key = shift @ARGV;
  if ($key eq 'cgroup') { push @cgroups, shift @ARGV; }
  elsif ($key eq 'tmpfs') { $tmpfs = shift @ARGV; }
  elsif ($key eq 'calldirs') { $call_root = shift @ARGV; $stamp = shift @ARGV; }
  else { die "watchdog: unknown argument $key\n"; }
}
# Signals aimed at the runtime's terminal or process group are not ours to act on; the runtime
# stops reading after "ready", so a write error is expected, not a reason to stop.
$SIG{$_} = 'IGNORE' for qw(INT HUP PIPE);
$| = 1;
print "ready\n";
1 while sysread(STDIN, my $buffer, 65536);

reap_cgroups();
reap_tmpfs();
# Again: a cgroup or mount made while the first pass ran.
reap_cgroups();
reap_tmpfs();
reap_call_dirs();
exit 0;

sub kill_and_remove {
  my ($dir) = @_;
  for (1 .. 100) {
    if (open(my $fh, '<', "$dir/cgroup.procs")) {
      my @pids = grep { /^\d+$/ } map { chomp; $_ } <$fh>;
      close $fh;
      kill 'KILL', @pids if @pids;
    } elsif ($! == $ENOENT) {
      return;
    }
    return if rmdir $dir;
    return if $! == $ENOENT;
    select(undef, undef, undef, 0.02);
  }
}

sub subdirs {
  my ($dir) = @_;
  opendir(my $dh, $dir) or return ();
  my @names = grep { $_ ne '.' && $_ ne '..' } readdir $dh;
  closedir $dh;
  return @names;
}

sub reap_cgroups {
  for my $session (@cgroups) {
    for my $name (subdirs($session)) {
      kill_and_remove("$session/$name") if -d "$session/$name";
    }
    rmdir $session;
  }
}

# After the processes are killed, so no mount is busy; detached all the same.
sub reap_tmpfs {
  return unless defined $tmpfs;
  if (open(my $fh, '<', '/proc/self/mountinfo')) {
    my @points;
    while (my $line = <$fh>) {
      my $point = (split / /, $line)[4] // '';
      $point =~ s/\\([0-7]{3})/chr(oct($1))/ge;
      push @points, $point if index($point, "$tmpfs/") == 0;
    }
    close $fh;
    for my $point (@points) {
      syscall(166, $point, 2);
      rmdir $point;
    }
  }
  rmdir "$tmpfs/$_" for subdirs($tmpfs);
  rmdir $tmpfs;
}

# Whether the process a `<pid>-<start>` stamp names still runs: same pid, same start time.
sub stamp_alive {
  my ($pid, $start) = split /-/, $stamp;
  open(my $fh, '<', "/proc/$pid/stat") or return 0;
  my $stat = <$fh> // '';
  close $fh;
  my @fields = split / /, substr($stat, rindex($stat, ')') + 2);
  return defined $fields[19] && $fields[19] eq $start;
}

# The runtime's per-call directories (host sockets), <kind>-<stamp>-<random>: removed only once the
# process is gone (see watchdog.ts reapRuntimeDirs for why).
sub reap_call_dirs {
  return unless defined $call_root && defined $stamp && $stamp =~ /^\d+-\d+$/;
  for (my $waited = 0; stamp_alive(); $waited += 100) {
    return if $waited >= 2000;
    select(undef, undef, undef, 0.1);
  }
  require File::Path;
  for my $name (subdirs($call_root)) {
    next unless $name =~ /^[a-z]+-\Q$stamp\E-[A-Za-z0-9]+$/;
    File::Path::remove_tree("$call_root/$name", { error => \my $ignored });
  }
}
