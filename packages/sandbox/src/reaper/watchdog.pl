#!/usr/bin/perl
# The reaper's watchdog in perl: watchdog.ts's job, in perl because perl starts in a few
# milliseconds where node takes ~35 ms of CPU, and a one-shot `bastion exec` pays for that start
# on its own path: the second core it takes is the one the engine, or the mount helper and bwrap,
# need at that moment (issue 26). reaper.ts runs it with `perl -e` from
# watchdog-perl-script.generated.ts (made from this file by scripts/standalone-bundles.mjs) when a
# perl is there, else watchdog.ts in node; a unit test checks it with `perl -c`.
#
# Protocol, as watchdog.ts: it writes "ready\n" once it holds the pipe, then reads stdin until it
# closes. A closed stdin means the runtime is gone (normal exit, crash or SIGKILL alike): it kills
# and removes the session's bwrap cgroups, unmounts the session's bwrap /tmp mounts, removes every
# container labelled with the session (asking again until the engine has answered "none" several
# times, for a create that was in flight), sweeps the cgroups and mounts again, removes the
# runtime's per-call directories once that process is gone, and exits.
#
# Arguments, in groups: `cgroup <session dir>` (one per hierarchy), `tmpfs <session dir>`,
# `calldirs <root> <pid>-<start>`, `docker <socket> <managed label> <session label> <session id>
# <quiet checks> <quiet interval ms>`. The engine is plain HTTP/1.0 over its Unix socket (one
# connection per request, the body ends with it). umount2 is syscall 166 with MNT_DETACH (2), and
# ENOENT is 2, x86_64 Linux's numbers as in tmpfs-mounter.pl. Nothing beyond strict and warnings is
# loaded before "ready" (File::Path alone costs ~9 ms of start-up, Errno ~1 ms): only the sweep
# needs more.
use strict; use warnings;
my $ENOENT = 2;

my (@cgroups, $tmpfs, $call_root, $stamp, @docker);
while (@ARGV) {
  my $key = shift @ARGV;
  if ($key eq 'cgroup') { push @cgroups, shift @ARGV; }
  elsif ($key eq 'tmpfs') { $tmpfs = shift @ARGV; }
  elsif ($key eq 'calldirs') { $call_root = shift @ARGV; $stamp = shift @ARGV; }
  elsif ($key eq 'docker') { @docker = splice @ARGV, 0, 6; }
  else { die "watchdog: unknown argument $key\n"; }
}
die "watchdog: docker takes six values\n" if @docker && (@docker != 6 || grep { !defined } @docker);
# Signals aimed at the runtime's terminal or process group are not ours to act on; the runtime
# stops reading after "ready", so a write error is expected, not a reason to stop.
$SIG{$_} = 'IGNORE' for qw(INT HUP PIPE);
$| = 1;
print "ready\n";
1 while sysread(STDIN, my $buffer, 65536);

reap_cgroups();
reap_tmpfs();
reap_containers();
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

# Connects to the engine and sends one request: the socket to read its answer from, or undef when
# the engine could not be reached in 15 s.
sub engine_send {
  my ($method, $path) = @_;
  require IO::Socket::UNIX;
  my $sock;
  eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 15;
    $sock = IO::Socket::UNIX->new(Type => IO::Socket::UNIX::SOCK_STREAM(), Peer => $docker[0]) or die "connect: $!\n";
    print $sock "$method $path HTTP/1.0\r\nHost: docker\r\n\r\n" or die "write: $!\n";
    alarm 0;
    1;
  } or $sock = undef;
  alarm 0;
  return $sock;
}

# The answer to what engine_send sent on $sock: (status, body), or () when none came in 15 s.
sub engine_answer {
  my ($sock) = @_;
  my ($status, $body);
  my $ok = eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 15;
    my $response = '';
    1 while sysread($sock, $response, 65536, length $response);
    alarm 0;
    ($status) = $response =~ m{^HTTP/1\.[01] (\d{3})};
    $body = substr($response, index($response, "\r\n\r\n") + 4);
    defined $status;
  };
  alarm 0;
  close $sock;
  return $ok ? ($status, $body) : ();
}

# One request to the engine: (status, body), or () when the engine could not be reached.
sub engine {
  my $sock = engine_send(@_) or return ();
  return engine_answer($sock);
}

sub uri_escape {
  my ($s) = @_;
  $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
  return $s;
}

# Every container labelled managed and with this session, removed (force, volumes too), until the
# engine has said "none" quiet-checks times in a row; an engine that cannot be reached is asked
# again every 500 ms, for up to 120 rounds.
sub reap_containers {
  return unless @docker;
  my (undef, $managed, $session_label, $session, $checks, $interval_ms) = @docker;
  my $filters = uri_escape(qq({"label":["$managed=true","$session_label=$session"]}));
  my $quiet = 0;
  for (my $attempt = 0; $attempt < 120 && $quiet < $checks; $attempt++) {
    my ($status, $body) = engine('GET', "/containers/json?all=1&filters=$filters");
    if (!defined $status || $status ne '200') {
      select(undef, undef, undef, 0.5);
      next;
    }
    my @ids = $body =~ /"Id"\s*:\s*"([0-9a-f]{64})"/g;
    if (!@ids) {
      $quiet++;
      select(undef, undef, undef, $interval_ms / 1000) if $quiet < $checks;
      next;
    }
    $quiet = 0;
    # All at once, as watchdog.ts does, up to $batch connections at a time, so the engine stops and
    # removes them side by side (12 running containers here: ~0.4 s instead of ~0.6 s one by one).
    # A failed remove shows up in the next list and is retried there.
    my $batch = 32;
    while (my @some = splice @ids, 0, $batch) {
      my @sent = grep { defined } map { engine_send('DELETE', "/containers/$_?force=1&v=1") } @some;
      engine_answer($_) for @sent;
    }
  }
}
