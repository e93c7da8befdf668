/* banned.h: libc calls that overflow or truncate silently. Use snprintf, dm_strlcpy, buf_*. */
#ifndef DM_BANNED_H
#define DM_BANNED_H

#define DM_BANNED(func) sorry_##func##_is_banned_in_doorman

#undef strcpy
#define strcpy(x, y) DM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) DM_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) DM_BANNED(strncat)
#undef sprintf
#define sprintf(...) DM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DM_BANNED(vsprintf)
#undef gets
#define gets(x) DM_BANNED(gets)
#undef strtok
#define strtok(x, y) DM_BANNED(strtok)
#undef atoi
#define atoi(x) DM_BANNED(atoi)

#endif
