<?php
// bs-client.php -- submits one message through "sendmail -bs" the way PHP
// mailers do (Symfony Mailer's sendmail transport with -bs): SMTP over the
// program's stdin/stdout, waiting for every reply before the next command.
//   php bs-client.php FROM TO MESSAGE-ID SUBJECT
// Exit 0 when the message was accepted (250 after the final dot), else 1
// with the dialogue's last exchange on stderr.
if ($argc != 5) {
	fwrite(STDERR, "usage: php bs-client.php FROM TO MESSAGE-ID SUBJECT\n");
	exit(2);
}
[, $from, $to, $mid, $subject] = $argv;
$p = proc_open(['/usr/sbin/sendmail', '-bs'],
    [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);
if (!is_resource($p)) {
	fwrite(STDERR, "cannot start sendmail -bs\n");
	exit(1);
}
[$in, $out] = $pipes;

function step($in, $out, $line, $want)
{
	if ($line !== null)
		fwrite($in, $line . "\r\n");
	$reply = '';
	while (($l = fgets($out)) !== false) {
		$reply .= $l;
		if (strlen($l) < 4 || $l[3] !== '-')
			break;
	}
	if (substr($reply, 0, 3) !== $want) {
		fwrite(STDERR, "sent: " . ($line ?? '(connect)') .
		    "\nwanted $want, got: " . ($reply === '' ? '(eof)' : $reply) . "\n");
		exit(1);
	}
}

step($in, $out, null, '220');
step($in, $out, 'EHLO ' . gethostname(), '250');
step($in, $out, "MAIL FROM:<$from>", '250');
step($in, $out, "RCPT TO:<$to>", '250');
step($in, $out, 'DATA', '354');
$msg = "From: <$from>\r\nTo: <$to>\r\nSubject: $subject\r\n" .
    "Message-ID: <$mid>\r\nDate: " . date(DATE_RFC2822) . "\r\n\r\n" .
    "Sent through sendmail -bs.\r\n.leading dot, stuffed on the wire\r\n";
fwrite($in, preg_replace('/^\./m', '..', $msg));
step($in, $out, '.', '250');
step($in, $out, 'QUIT', '221');
fclose($in);
fclose($out);
exit(proc_close($p) == 0 ? 0 : 1);
