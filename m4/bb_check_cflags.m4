# bb_check_cflags.m4 — BB_CHECK_CFLAGS(VARIABLE, FLAGS): appends to VARIABLE each of FLAGS the C compiler accepts.
# Each flag is compiled with -Werror (so an unknown warning option is refused, not just warned about) after the
# flags already accepted, so a flag that needs another (-Werror=format-security needs -Wformat) is tried in order.
# bbgitops' own macro; it does not borrow autoconf-archive's AX_ namespace.
AC_DEFUN([BB_CHECK_CFLAGS], [
	for bb_flag in m4_normalize([$2]); do
		AC_MSG_CHECKING([whether $CC accepts $bb_flag])
		bb_saved_cflags=$CFLAGS
		CFLAGS="$CFLAGS $$1 $bb_flag -Werror"
		AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
			[AC_MSG_RESULT([yes]); $1="$$1 $bb_flag"],
			[AC_MSG_RESULT([no])])
		CFLAGS=$bb_saved_cflags
	done
])
