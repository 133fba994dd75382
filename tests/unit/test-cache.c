/* test-cache.c — unit tests of the daemon's SQLite cache (daemon/voipd-cache.c).
 *
 * Each test gets a fresh temporary directory; the cache file lives two
 * folders below it so that opening has to create them.
 */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "voip-catalogue.h"
#include "voipd-cache.h"

typedef struct {
  char       *dir;
  char       *path;
  VoipdCache *cache;
} Fixture;

/* ---- the async API, waited for -------------------------------------------- */

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

/* Iterates the thread-default context until `slot` is filled; the cache
 * thread answers there. */
static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (*slot == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
  g_assert_nonnull (*slot);
  return *slot;
}

static gboolean
cache_put_message (VoipdCache *cache, const VoipdCachedMessage *message, gboolean *is_new,
                   GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  voipd_cache_put_message_async (cache, message, NULL, on_done, &result);
  return voipd_cache_put_message_finish (cache, wait_result (&result), is_new, error);
}

static GPtrArray *
cache_history (VoipdCache *cache, const char *me, const char *peer, gint64 group,
               gint64 before_id, guint limit, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  voipd_cache_history_async (cache, me, peer, group, before_id, limit, NULL, on_done, &result);
  return voipd_cache_history_finish (cache, wait_result (&result), error);
}

static VoipdCachedMessage *
cache_get_message (VoipdCache *cache, gint64 id, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  voipd_cache_get_message_async (cache, id, NULL, on_done, &result);
  return voipd_cache_get_message_finish (cache, wait_result (&result), error);
}

static gboolean
cache_outbox_add (VoipdCache *cache, VoipdOutboxEntry *entry, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  voipd_cache_outbox_add_async (cache, entry, NULL, on_done, &result);
  entry->local_id = voipd_cache_outbox_add_finish (cache, wait_result (&result), error);
  return entry->local_id > 0;
}

/* Everything queued so far is committed. */
static void
cache_sync (VoipdCache *cache)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  voipd_cache_sync_async (cache, FALSE, NULL, on_done, &result);
  g_assert_true (voipd_cache_sync_finish (cache, wait_result (&result), &error));
  g_assert_no_error (error);
}

/* ---- a VFS that counts syncs -------------------------------------------------
 *
 * The default VFS with xSync counted: what reached the disk for sure (an
 * fsync or fdatasync) is what this counts, on the cache thread. */

typedef struct {
  sqlite3_file  base;
  sqlite3_file *real;   /* right after this struct, in the same allocation */
} CountingFile;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs counting_vfs;
static gint syncs;

#define REAL(file) (((CountingFile *) (file))->real)

static int
counting_close (sqlite3_file *file)
{
  return REAL (file)->pMethods->xClose (REAL (file));
}

static int
counting_read (sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
  return REAL (file)->pMethods->xRead (REAL (file), buffer, amount, offset);
}

static int
counting_write (sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset)
{
  return REAL (file)->pMethods->xWrite (REAL (file), buffer, amount, offset);
}

static int
counting_truncate (sqlite3_file *file, sqlite3_int64 size)
{
  return REAL (file)->pMethods->xTruncate (REAL (file), size);
}

static int
counting_sync (sqlite3_file *file, int flags)
{
  g_atomic_int_inc (&syncs);
  return REAL (file)->pMethods->xSync (REAL (file), flags);
}

static int
counting_file_size (sqlite3_file *file, sqlite3_int64 *size)
{
  return REAL (file)->pMethods->xFileSize (REAL (file), size);
}

static int
counting_lock (sqlite3_file *file, int lock)
{
  return REAL (file)->pMethods->xLock (REAL (file), lock);
}

static int
counting_unlock (sqlite3_file *file, int lock)
{
  return REAL (file)->pMethods->xUnlock (REAL (file), lock);
}

static int
counting_check_reserved (sqlite3_file *file, int *out)
{
  return REAL (file)->pMethods->xCheckReservedLock (REAL (file), out);
}

static int
counting_file_control (sqlite3_file *file, int op, void *arg)
{
  return REAL (file)->pMethods->xFileControl (REAL (file), op, arg);
}

static int
counting_sector_size (sqlite3_file *file)
{
  return REAL (file)->pMethods->xSectorSize (REAL (file));
}

static int
counting_device_characteristics (sqlite3_file *file)
{
  return REAL (file)->pMethods->xDeviceCharacteristics (REAL (file));
}

static int
counting_shm_map (sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
  return REAL (file)->pMethods->xShmMap (REAL (file), region, size, extend, out);
}

static int
counting_shm_lock (sqlite3_file *file, int offset, int n, int flags)
{
  return REAL (file)->pMethods->xShmLock (REAL (file), offset, n, flags);
}

static void
counting_shm_barrier (sqlite3_file *file)
{
  REAL (file)->pMethods->xShmBarrier (REAL (file));
}

static int
counting_shm_unmap (sqlite3_file *file, int delete_flag)
{
  return REAL (file)->pMethods->xShmUnmap (REAL (file), delete_flag);
}

/* Version 2: WAL needs the shared-memory methods; no memory mapping. */
static const sqlite3_io_methods counting_io = {
  .iVersion = 2,
  .xClose = counting_close,
  .xRead = counting_read,
  .xWrite = counting_write,
  .xTruncate = counting_truncate,
  .xSync = counting_sync,
  .xFileSize = counting_file_size,
  .xLock = counting_lock,
  .xUnlock = counting_unlock,
  .xCheckReservedLock = counting_check_reserved,
  .xFileControl = counting_file_control,
  .xSectorSize = counting_sector_size,
  .xDeviceCharacteristics = counting_device_characteristics,
  .xShmMap = counting_shm_map,
  .xShmLock = counting_shm_lock,
  .xShmBarrier = counting_shm_barrier,
  .xShmUnmap = counting_shm_unmap,
};

static int
counting_open (sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
  CountingFile *counting = (CountingFile *) file;
  int rc;

  counting->real = (sqlite3_file *) &counting[1];
  rc = real_vfs->xOpen (real_vfs, name, counting->real, flags, out_flags);
  counting->base.pMethods = counting->real->pMethods != NULL ? &counting_io : NULL;
  return rc;
}

/* Makes it the default for every connection the test program opens. */
static void
register_counting_vfs (void)
{
  real_vfs = sqlite3_vfs_find (NULL);
  g_assert_nonnull (real_vfs);
  counting_vfs = *real_vfs;
  counting_vfs.zName = "counting";
  counting_vfs.szOsFile = sizeof (CountingFile) + real_vfs->szOsFile;
  counting_vfs.xOpen = counting_open;
  counting_vfs.pNext = NULL;
  g_assert_cmpint (sqlite3_vfs_register (&counting_vfs, 1), ==, SQLITE_OK);
}

/* ---- fixture ---------------------------------------------------------- */

static VoipdCache *
open_cache (const char *path)
{
  g_autoptr(GError) error = NULL;
  VoipdCache *cache = voipd_cache_open (path, &error);

  g_assert_no_error (error);
  g_assert_true (VOIPD_IS_CACHE (cache));
  return cache;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-cache-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "data", "voipd", "cache.db", NULL);
  f->cache = open_cache (f->path);
}

static void
fixture_reopen (Fixture *f)
{
  g_clear_object (&f->cache);
  f->cache = open_cache (f->path);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->cache);
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* ---- helpers ---------------------------------------------------------- */

/* Runs one statement on the file with a connection of its own. */
static void
raw_exec (const char *path, const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static char *
raw_query_text (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
put_contact (VoipdCache *cache, const char *username, const char *display_name,
             guint subscription)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (voipd_cache_put_contact (cache, username, display_name, "", subscription,
                                          &error));
  g_assert_no_error (error);
}

static GPtrArray *
list_contacts (VoipdCache *cache)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *contacts = voipd_cache_list_contacts (cache, &error);

  g_assert_no_error (error);
  g_assert_nonnull (contacts);
  return contacts;
}

static GPtrArray *
list_groups (VoipdCache *cache)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *groups = voipd_cache_list_groups (cache, &error);

  g_assert_no_error (error);
  g_assert_nonnull (groups);
  return groups;
}

static void
put_group (VoipdCache *cache, gint64 id, const char *name, const char *owner,
           const char *const *members)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (voipd_cache_put_group (cache, id, name, owner, members, &error));
  g_assert_no_error (error);
}

static void
add_unread (VoipdCache *cache, const char *peer, gint64 group, guint count)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (voipd_cache_add_unread (cache, peer, group, count, &error));
  g_assert_no_error (error);
}

static void
clear_unread (VoipdCache *cache, const char *peer, gint64 group)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (voipd_cache_clear_unread (cache, peer, group, &error));
  g_assert_no_error (error);
}

/* Stores a text message; returns whether its id was new. */
static gboolean
put_message (VoipdCache *cache, gint64 id, const char *sender, const char *recipient,
             gint64 group, const char *text)
{
  g_autoptr(GError) error = NULL;
  VoipdCachedMessage message = {
    .id = id,
    .seq = id * 10,
    .timestamp_ms = 1000 + id,
    .sender = (char *) sender,
    .recipient = (char *) recipient,
    .group = group,
    .kind = VOIP_MESSAGE_KIND_TEXT,
    .text = (char *) text,
  };
  gboolean is_new = -1;

  g_assert_true (cache_put_message (cache, &message, &is_new, &error));
  g_assert_no_error (error);
  g_assert_true (is_new == TRUE || is_new == FALSE);
  return is_new;
}

static GPtrArray *
history (VoipdCache *cache, const char *me, const char *peer, gint64 group,
         gint64 before_id, guint limit)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *messages = cache_history (cache, me, peer, group, before_id, limit, &error);

  g_assert_no_error (error);
  g_assert_nonnull (messages);
  return messages;
}

/* The ids of a history page, as "1,2,3", for one-line comparisons. */
static char *
ids_of (GPtrArray *messages)
{
  g_autoptr(GString) ids = g_string_new ("");

  for (guint i = 0; i < messages->len; i++)
    {
      VoipdCachedMessage *message = g_ptr_array_index (messages, i);

      g_string_append_printf (ids, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", message->id);
    }
  return g_string_free (g_steal_pointer (&ids), FALSE);
}

static void
assert_history (VoipdCache *cache, const char *me, const char *peer, gint64 group,
                gint64 before_id, guint limit, const char *expected)
{
  g_autoptr(GPtrArray) messages = history (cache, me, peer, group, before_id, limit);
  g_autofree char *ids = ids_of (messages);

  g_assert_cmpstr (ids, ==, expected);
}

static VoipdOutboxEntry *
new_entry (const char *client_id, const char *recipient, gint64 group, const char *text,
           GBytes *voice)
{
  VoipdOutboxEntry *entry = g_new0 (VoipdOutboxEntry, 1);

  entry->client_id = g_strdup (client_id);
  entry->recipient = g_strdup (recipient);
  entry->group = group;
  entry->kind = voice != NULL ? VOIP_MESSAGE_KIND_VOICE : VOIP_MESSAGE_KIND_TEXT;
  entry->text = g_strdup (text);
  entry->voice = voice != NULL ? g_bytes_ref (voice) : g_bytes_new (NULL, 0);
  entry->duration_ms = voice != NULL ? 1500 : 0;
  entry->queued_ms = 42000;
  return entry;
}

static gint64
outbox_add (VoipdCache *cache, VoipdOutboxEntry *entry)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (cache_outbox_add (cache, entry, &error));
  g_assert_no_error (error);
  g_assert_cmpint (entry->local_id, >, 0);
  return entry->local_id;
}

static GPtrArray *
outbox_list (VoipdCache *cache)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *entries = voipd_cache_outbox_list (cache, &error);

  g_assert_no_error (error);
  g_assert_nonnull (entries);
  return entries;
}

/* ---- opening ---------------------------------------------------------- */

static void
test_open_creates (Fixture *f, gconstpointer data)
{
  g_autofree char *folder = g_path_get_dirname (f->path);
  g_autofree char *journal_mode = NULL;
  g_autofree char *version = NULL;
  GStatBuf st;

  g_assert_cmpint (g_stat (folder, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_REGULAR));

  /* WAL is a property of the file, so a second connection sees it. */
  journal_mode = raw_query_text (f->path, "PRAGMA journal_mode");
  g_assert_cmpstr (journal_mode, ==, "wal");
  version = raw_query_text (f->path, "PRAGMA user_version");
  g_assert_cmpstr (version, ==, "1");

  {
    g_autoptr(GPtrArray) contacts = list_contacts (f->cache);
    g_autoptr(GPtrArray) groups = list_groups (f->cache);
    g_autoptr(GPtrArray) entries = outbox_list (f->cache);

    g_assert_cmpuint (contacts->len, ==, 0);
    g_assert_cmpuint (groups->len, ==, 0);
    g_assert_cmpuint (entries->len, ==, 0);
  }
}

static void
test_open_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autofree char *server = NULL;
  g_autofree char *version = NULL;

  g_assert_true (voipd_cache_set_meta (f->cache, "server", "voip.example.org:5060", &error));
  g_assert_no_error (error);
  put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_FRIEND);
  g_assert_true (put_message (f->cache, 1, "alice", "bob", 0, "hi"));

  fixture_reopen (f);

  server = voipd_cache_get_meta (f->cache, "server");
  g_assert_cmpstr (server, ==, "voip.example.org:5060");
  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 1);
  assert_history (f->cache, "alice", "bob", 0, 0, 10, "1");
  /* Reopening does not migrate again. */
  version = raw_query_text (f->path, "PRAGMA user_version");
  g_assert_cmpstr (version, ==, "1");
}

static void
test_open_too_new (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdCache) cache = NULL;

  g_clear_object (&f->cache);
  raw_exec (f->path, "PRAGMA user_version = 99");

  cache = voipd_cache_open (f->path, &error);
  g_assert_null (cache);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "99"));
  g_assert_nonnull (strstr (error->message, f->path));
}

static void
test_open_not_a_database (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdCache) cache = NULL;
  g_autofree char *path = g_build_filename (f->dir, "garbage.db", NULL);

  g_assert_true (g_file_set_contents (path, "this is not an SQLite database, not at all....",
                                      -1, NULL));
  cache = voipd_cache_open (path, &error);
  g_assert_null (cache);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "opening the cache"));
}

static void
test_open_folder_fails (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdCache) cache = NULL;
  g_autofree char *file = g_build_filename (f->dir, "plain-file", NULL);
  g_autofree char *path = g_build_filename (file, "cache.db", NULL);

  /* A file where the folder should be. */
  g_assert_true (g_file_set_contents (file, "", -1, NULL));
  cache = voipd_cache_open (path, &error);
  g_assert_null (cache);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_nonnull (strstr (error->message, "creating the folder"));
}

/* ---- meta ------------------------------------------------------------- */

static void
test_meta (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *unset = voipd_cache_get_meta (f->cache, "username");
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  g_assert_null (unset);

  g_assert_true (voipd_cache_set_meta (f->cache, "username", "alice", &error));
  g_assert_no_error (error);
  first = voipd_cache_get_meta (f->cache, "username");
  g_assert_cmpstr (first, ==, "alice");

  g_assert_true (voipd_cache_set_meta (f->cache, "username", "carol", &error));
  g_assert_no_error (error);
  second = voipd_cache_get_meta (f->cache, "username");
  g_assert_cmpstr (second, ==, "carol");
}

static void
test_last_seq (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 0);

  g_assert_true (voipd_cache_raise_last_seq (f->cache, 10, &error));
  g_assert_no_error (error);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 10);

  /* Lower: ignored, and not an error. */
  g_assert_true (voipd_cache_raise_last_seq (f->cache, 5, &error));
  g_assert_no_error (error);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 10);

  /* 9 < 10 as numbers though "9" > "10" as text. */
  g_assert_true (voipd_cache_raise_last_seq (f->cache, 9, &error));
  g_assert_no_error (error);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 10);

  g_assert_true (voipd_cache_raise_last_seq (f->cache, G_GINT64_CONSTANT (5000000000), &error));
  g_assert_no_error (error);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, G_GINT64_CONSTANT (5000000000));

  fixture_reopen (f);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, G_GINT64_CONSTANT (5000000000));
}

/* ---- contacts --------------------------------------------------------- */

static void
test_contacts (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  VoipdCachedContact *contact;

  put_contact (f->cache, "dave", "Dave", VOIP_SUBSCRIPTION_OUTGOING);
  put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_FRIEND);
  put_contact (f->cache, "carol", "Carol", VOIP_SUBSCRIPTION_INCOMING);

  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 3);
  contact = g_ptr_array_index (contacts, 0);
  g_assert_cmpstr (contact->username, ==, "bob");
  g_assert_cmpstr (contact->display_name, ==, "Bob");
  g_assert_cmpstr (contact->motd, ==, "");
  g_assert_cmpuint (contact->subscription, ==, VOIP_SUBSCRIPTION_FRIEND);
  g_assert_cmpuint (contact->unread, ==, 0);
  contact = g_ptr_array_index (contacts, 1);
  g_assert_cmpstr (contact->username, ==, "carol");
  g_assert_cmpuint (contact->subscription, ==, VOIP_SUBSCRIPTION_INCOMING);
  contact = g_ptr_array_index (contacts, 2);
  g_assert_cmpstr (contact->username, ==, "dave");
  g_assert_cmpuint (contact->subscription, ==, VOIP_SUBSCRIPTION_OUTGOING);
  g_clear_pointer (&contacts, g_ptr_array_unref);

  /* An update replaces the fields and keeps the unread count. */
  add_unread (f->cache, "dave", 0, 3);
  g_assert_true (voipd_cache_put_contact (f->cache, "dave", "David", "out fishing",
                                          VOIP_SUBSCRIPTION_FRIEND, &error));
  g_assert_no_error (error);
  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 3);
  contact = g_ptr_array_index (contacts, 2);
  g_assert_cmpstr (contact->username, ==, "dave");
  g_assert_cmpstr (contact->display_name, ==, "David");
  g_assert_cmpstr (contact->motd, ==, "out fishing");
  g_assert_cmpuint (contact->subscription, ==, VOIP_SUBSCRIPTION_FRIEND);
  g_assert_cmpuint (contact->unread, ==, 3);
  g_clear_pointer (&contacts, g_ptr_array_unref);

  /* Removing one leaves the others; removing an unknown one is no error. */
  g_assert_true (voipd_cache_remove_contact (f->cache, "carol", &error));
  g_assert_no_error (error);
  g_assert_true (voipd_cache_remove_contact (f->cache, "nobody", &error));
  g_assert_no_error (error);
  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 2);
  g_assert_cmpstr (((VoipdCachedContact *) g_ptr_array_index (contacts, 0))->username, ==, "bob");
  g_assert_cmpstr (((VoipdCachedContact *) g_ptr_array_index (contacts, 1))->username, ==, "dave");
  g_clear_pointer (&contacts, g_ptr_array_unref);

  /* Subscription NONE is not a contact. */
  put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_NONE);
  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpstr (((VoipdCachedContact *) g_ptr_array_index (contacts, 0))->username, ==, "dave");
}

/* ---- groups ----------------------------------------------------------- */

static void
test_groups (Fixture *f, gconstpointer data)
{
  const char *const band[] = { "zed", "alice", "mallory", NULL };
  const char *const band_after[] = { "mallory", "bob", NULL };
  const char *const book_club[] = { "alice", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  VoipdCachedGroup *group;

  put_group (f->cache, 7, "band", "zed", band);
  put_group (f->cache, 3, "book club", "alice", book_club);
  put_group (f->cache, 9, "empty", "alice", NULL);

  groups = list_groups (f->cache);
  g_assert_cmpuint (groups->len, ==, 3);
  group = g_ptr_array_index (groups, 0);
  g_assert_cmpint (group->id, ==, 3);
  g_assert_cmpstr (group->name, ==, "book club");
  g_assert_cmpstr (group->owner, ==, "alice");
  g_assert_true (g_strv_equal ((const char *const *) group->members, book_club));
  g_assert_cmpuint (group->unread, ==, 0);
  group = g_ptr_array_index (groups, 1);
  g_assert_cmpint (group->id, ==, 7);
  g_assert_cmpstr (group->owner, ==, "zed");
  /* Members in the order given, not sorted. */
  g_assert_true (g_strv_equal ((const char *const *) group->members, band));
  group = g_ptr_array_index (groups, 2);
  g_assert_cmpint (group->id, ==, 9);
  g_assert_nonnull (group->members);
  g_assert_cmpuint (g_strv_length (group->members), ==, 0);
  g_clear_pointer (&groups, g_ptr_array_unref);

  /* An update replaces name, owner and the whole member list, keeps unread. */
  add_unread (f->cache, NULL, 7, 2);
  put_group (f->cache, 7, "the band", "mallory", band_after);
  groups = list_groups (f->cache);
  g_assert_cmpuint (groups->len, ==, 3);
  group = g_ptr_array_index (groups, 1);
  g_assert_cmpint (group->id, ==, 7);
  g_assert_cmpstr (group->name, ==, "the band");
  g_assert_cmpstr (group->owner, ==, "mallory");
  g_assert_true (g_strv_equal ((const char *const *) group->members, band_after));
  g_assert_cmpuint (group->unread, ==, 2);
  g_clear_pointer (&groups, g_ptr_array_unref);

  g_assert_true (voipd_cache_remove_group (f->cache, 3, &error));
  g_assert_no_error (error);
  g_assert_true (voipd_cache_remove_group (f->cache, 1234, &error));
  g_assert_no_error (error);

  fixture_reopen (f);
  groups = list_groups (f->cache);
  g_assert_cmpuint (groups->len, ==, 2);
  group = g_ptr_array_index (groups, 0);
  g_assert_cmpint (group->id, ==, 7);
  g_assert_true (g_strv_equal ((const char *const *) group->members, band_after));
  group = g_ptr_array_index (groups, 1);
  g_assert_cmpint (group->id, ==, 9);
}

/* ---- unread counts ---------------------------------------------------- */

static guint
contact_unread (VoipdCache *cache, const char *username)
{
  g_autoptr(GPtrArray) contacts = list_contacts (cache);

  for (guint i = 0; i < contacts->len; i++)
    {
      VoipdCachedContact *contact = g_ptr_array_index (contacts, i);

      if (g_str_equal (contact->username, username))
        return contact->unread;
    }
  g_assert_not_reached ();
}

static guint
group_unread (VoipdCache *cache, gint64 id)
{
  g_autoptr(GPtrArray) groups = list_groups (cache);

  for (guint i = 0; i < groups->len; i++)
    {
      VoipdCachedGroup *group = g_ptr_array_index (groups, i);

      if (group->id == id)
        return group->unread;
    }
  g_assert_not_reached ();
}

static void
test_unread (Fixture *f, gconstpointer data)
{
  const char *const members[] = { "alice", "bob", NULL };
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GPtrArray) groups = NULL;

  put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_FRIEND);
  put_contact (f->cache, "carol", "Carol", VOIP_SUBSCRIPTION_FRIEND);
  put_group (f->cache, 5, "band", "alice", members);

  add_unread (f->cache, "bob", 0, 1);
  add_unread (f->cache, "bob", 0, 2);
  add_unread (f->cache, NULL, 5, 4);
  g_assert_cmpuint (contact_unread (f->cache, "bob"), ==, 3);
  g_assert_cmpuint (contact_unread (f->cache, "carol"), ==, 0);
  g_assert_cmpuint (group_unread (f->cache, 5), ==, 4);

  /* A group's count is not a peer's and the reverse. */
  add_unread (f->cache, "carol", 0, 1);
  g_assert_cmpuint (group_unread (f->cache, 5), ==, 4);
  g_assert_cmpuint (contact_unread (f->cache, "bob"), ==, 3);

  clear_unread (f->cache, "bob", 0);
  g_assert_cmpuint (contact_unread (f->cache, "bob"), ==, 0);
  g_assert_cmpuint (contact_unread (f->cache, "carol"), ==, 1);
  clear_unread (f->cache, NULL, 5);
  g_assert_cmpuint (group_unread (f->cache, 5), ==, 0);
  /* Clearing what was never counted is no error. */
  clear_unread (f->cache, "nobody", 0);
  clear_unread (f->cache, NULL, 99);

  /* Counted before the contact and the group are known: no placeholder row
   * shows up in the listings, and the count appears once they are. */
  add_unread (f->cache, "erin", 0, 2);
  add_unread (f->cache, NULL, 6, 7);
  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 2);
  groups = list_groups (f->cache);
  g_assert_cmpuint (groups->len, ==, 1);
  put_contact (f->cache, "erin", "Erin", VOIP_SUBSCRIPTION_FRIEND);
  put_group (f->cache, 6, "choir", "erin", members);
  g_assert_cmpuint (contact_unread (f->cache, "erin"), ==, 2);
  g_assert_cmpuint (group_unread (f->cache, 6), ==, 7);

  /* Counts survive a restart. */
  fixture_reopen (f);
  g_assert_cmpuint (contact_unread (f->cache, "erin"), ==, 2);
  g_assert_cmpuint (group_unread (f->cache, 6), ==, 7);

  /* Removing the contact or group forgets the count. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (voipd_cache_remove_contact (f->cache, "erin", &error));
    g_assert_no_error (error);
    g_assert_true (voipd_cache_remove_group (f->cache, 6, &error));
    g_assert_no_error (error);
  }
  put_contact (f->cache, "erin", "Erin", VOIP_SUBSCRIPTION_FRIEND);
  put_group (f->cache, 6, "choir", "erin", members);
  g_assert_cmpuint (contact_unread (f->cache, "erin"), ==, 0);
  g_assert_cmpuint (group_unread (f->cache, 6), ==, 0);
}

/* ---- messages --------------------------------------------------------- */

static void
test_messages_put (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdCachedMessage) message = NULL;
  VoipdCachedMessage voice = {
    .id = 2, .seq = 20, .timestamp_ms = 2002, .sender = "bob", .recipient = "alice",
    .kind = VOIP_MESSAGE_KIND_VOICE, .text = "", .duration_ms = 3500,
  };
  VoipdCachedMessage edit = {
    .id = 1, .seq = 30, .timestamp_ms = 1001, .sender = "alice", .recipient = "bob",
    .kind = VOIP_MESSAGE_KIND_TEXT, .text = "hello, edited", .edited = TRUE,
  };
  VoipdCachedMessage tombstone = {
    .id = 1, .seq = 40, .timestamp_ms = 1001, .sender = "alice", .recipient = "bob",
    .kind = VOIP_MESSAGE_KIND_TEXT, .text = "", .edited = TRUE, .deleted = TRUE,
  };
  gboolean is_new = FALSE;

  g_assert_true (put_message (f->cache, 1, "alice", "bob", 0, "hello"));
  g_assert_true (cache_put_message (f->cache, &voice, &is_new, &error));
  g_assert_no_error (error);
  g_assert_true (is_new);

  message = cache_get_message (f->cache, 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_assert_cmpint (message->id, ==, 1);
  g_assert_cmpint (message->seq, ==, 10);
  g_assert_cmpint (message->timestamp_ms, ==, 1001);
  g_assert_cmpstr (message->sender, ==, "alice");
  g_assert_cmpstr (message->recipient, ==, "bob");
  g_assert_cmpint (message->group, ==, 0);
  g_assert_cmpuint (message->kind, ==, VOIP_MESSAGE_KIND_TEXT);
  g_assert_cmpstr (message->text, ==, "hello");
  g_assert_false (message->edited);
  g_assert_false (message->deleted);
  g_clear_pointer (&message, voipd_cached_message_free);

  message = cache_get_message (f->cache, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (message->kind, ==, VOIP_MESSAGE_KIND_VOICE);
  g_assert_cmpuint (message->duration_ms, ==, 3500);
  g_clear_pointer (&message, voipd_cached_message_free);

  /* An edit replaces the row and is not new. */
  is_new = TRUE;
  g_assert_true (cache_put_message (f->cache, &edit, &is_new, &error));
  g_assert_no_error (error);
  g_assert_false (is_new);
  message = cache_get_message (f->cache, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->seq, ==, 30);
  g_assert_cmpstr (message->text, ==, "hello, edited");
  g_assert_true (message->edited);
  g_assert_false (message->deleted);
  g_clear_pointer (&message, voipd_cached_message_free);

  /* So does a tombstone; is_new may be NULL. */
  g_assert_true (cache_put_message (f->cache, &tombstone, NULL, &error));
  g_assert_no_error (error);
  message = cache_get_message (f->cache, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->seq, ==, 40);
  g_assert_cmpstr (message->text, ==, "");
  g_assert_true (message->deleted);
  g_clear_pointer (&message, voipd_cached_message_free);

  /* Replaced in place: still one row in the conversation. */
  assert_history (f->cache, "alice", "bob", 0, 0, 10, "1,2");

  /* A group message reads back with its group and an empty recipient. */
  g_assert_true (put_message (f->cache, 3, "carol", "ignored", 8, "to the group"));
  message = cache_get_message (f->cache, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->group, ==, 8);
  g_assert_cmpstr (message->recipient, ==, "");
}

static void
test_messages_get_unknown (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VoipdCachedMessage) message = NULL;

  put_message (f->cache, 5, "alice", "bob", 0, "x");
  message = cache_get_message (f->cache, 6, &error);
  g_assert_no_error (error);
  g_assert_null (message);
}

static void
test_history_direct (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) page = NULL;
  VoipdCachedMessage *message;

  /* alice <-> bob in both directions, among other conversations. */
  put_message (f->cache, 1, "alice", "bob", 0, "a1");
  put_message (f->cache, 2, "bob", "alice", 0, "b2");
  put_message (f->cache, 3, "alice", "carol", 0, "other pair");
  put_message (f->cache, 4, "bob", "carol", 0, "other pair");
  put_message (f->cache, 5, "alice", "bob", 0, "a5");
  put_message (f->cache, 6, "alice", "", 9, "a group");
  put_message (f->cache, 7, "bob", "alice", 0, "b7");
  put_message (f->cache, 9, "alice", "bob", 0, "a9");
  /* Stored out of id order: history orders by id. */
  put_message (f->cache, 8, "bob", "alice", 0, "b8");

  /* Either side asks: the same conversation. */
  assert_history (f->cache, "alice", "bob", 0, 0, 100, "1,2,5,7,8,9");
  assert_history (f->cache, "bob", "alice", 0, 0, 100, "1,2,5,7,8,9");
  assert_history (f->cache, "carol", "alice", 0, 0, 100, "3");
  assert_history (f->cache, "alice", "dave", 0, 0, 100, "");

  /* The newest `limit`, oldest first. */
  assert_history (f->cache, "alice", "bob", 0, 0, 3, "7,8,9");
  /* Paging back from the oldest of the page. */
  assert_history (f->cache, "alice", "bob", 0, 7, 3, "1,2,5");
  assert_history (f->cache, "alice", "bob", 0, 1, 3, "");
  /* before_id need not be a message of the conversation. */
  assert_history (f->cache, "alice", "bob", 0, 6, 2, "2,5");
  assert_history (f->cache, "alice", "bob", 0, 0, 0, "");

  page = history (f->cache, "bob", "alice", 0, 0, 2);
  g_assert_cmpuint (page->len, ==, 2);
  message = g_ptr_array_index (page, 0);
  g_assert_cmpint (message->id, ==, 8);
  g_assert_cmpstr (message->sender, ==, "bob");
  g_assert_cmpstr (message->recipient, ==, "alice");
  g_assert_cmpstr (message->text, ==, "b8");
  g_assert_cmpint (message->timestamp_ms, ==, 1008);
  message = g_ptr_array_index (page, 1);
  g_assert_cmpstr (message->sender, ==, "alice");
  g_assert_cmpstr (message->text, ==, "a9");
}

static void
test_history_group (Fixture *f, gconstpointer data)
{
  put_message (f->cache, 1, "alice", "", 4, "g4");
  put_message (f->cache, 2, "bob", "", 5, "g5");
  put_message (f->cache, 3, "bob", "", 4, "g4");
  put_message (f->cache, 4, "alice", "bob", 0, "direct");
  put_message (f->cache, 5, "carol", "", 4, "g4");
  put_message (f->cache, 6, "alice", "", 4, "g4");

  assert_history (f->cache, NULL, NULL, 4, 0, 50, "1,3,5,6");
  assert_history (f->cache, "alice", NULL, 5, 0, 50, "2");
  assert_history (f->cache, NULL, NULL, 4, 0, 2, "5,6");
  assert_history (f->cache, NULL, NULL, 4, 5, 2, "1,3");
  assert_history (f->cache, NULL, NULL, 4, 3, 10, "1");
  assert_history (f->cache, NULL, NULL, 99, 0, 10, "");
  /* Group messages are no direct conversation. */
  assert_history (f->cache, "alice", "bob", 0, 0, 50, "4");
}

/* ---- outbox ----------------------------------------------------------- */

static void
test_outbox (Fixture *f, gconstpointer data)
{
  static const guint8 opus[] = { 0x4f, 0x67, 0x67, 0x53, 0x00, 0xff };
  g_autoptr(GBytes) voice = g_bytes_new_static (opus, sizeof opus);
  g_autoptr(VoipdOutboxEntry) first = new_entry ("c-1", "bob", 0, "one", NULL);
  g_autoptr(VoipdOutboxEntry) second = new_entry ("c-2", "", 7, "", voice);
  g_autoptr(VoipdOutboxEntry) third = new_entry ("c-3", "carol", 0, "three", NULL);
  g_autoptr(VoipdOutboxEntry) again = new_entry ("c-1", "bob", 0, "one again", NULL);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  VoipdOutboxEntry *entry;
  gint64 id1, id2, id3;

  id1 = outbox_add (f->cache, first);
  id2 = outbox_add (f->cache, second);
  id3 = outbox_add (f->cache, third);
  g_assert_cmpint (id1, <, id2);
  g_assert_cmpint (id2, <, id3);

  /* client_id is the idempotency key: queued once. */
  g_assert_false (cache_outbox_add (f->cache, again, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "outbox"));
  g_clear_error (&error);

  entries = outbox_list (f->cache);
  g_assert_cmpuint (entries->len, ==, 3);
  entry = g_ptr_array_index (entries, 0);
  g_assert_cmpint (entry->local_id, ==, id1);
  g_assert_cmpstr (entry->client_id, ==, "c-1");
  g_assert_cmpstr (entry->recipient, ==, "bob");
  g_assert_cmpint (entry->group, ==, 0);
  g_assert_cmpuint (entry->kind, ==, VOIP_MESSAGE_KIND_TEXT);
  g_assert_cmpstr (entry->text, ==, "one");
  g_assert_nonnull (entry->voice);
  g_assert_cmpuint (g_bytes_get_size (entry->voice), ==, 0);
  g_assert_cmpint (entry->queued_ms, ==, 42000);
  entry = g_ptr_array_index (entries, 1);
  g_assert_cmpint (entry->local_id, ==, id2);
  g_assert_cmpstr (entry->recipient, ==, "");
  g_assert_cmpint (entry->group, ==, 7);
  g_assert_cmpuint (entry->kind, ==, VOIP_MESSAGE_KIND_VOICE);
  g_assert_true (g_bytes_equal (entry->voice, voice));
  g_assert_cmpuint (entry->duration_ms, ==, 1500);
  entry = g_ptr_array_index (entries, 2);
  g_assert_cmpint (entry->local_id, ==, id3);
  g_assert_cmpstr (entry->client_id, ==, "c-3");
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* Survives a restart, in order. */
  fixture_reopen (f);
  entries = outbox_list (f->cache);
  g_assert_cmpuint (entries->len, ==, 3);
  g_assert_cmpint (((VoipdOutboxEntry *) g_ptr_array_index (entries, 0))->local_id, ==, id1);
  g_assert_cmpint (((VoipdOutboxEntry *) g_ptr_array_index (entries, 2))->local_id, ==, id3);
  g_assert_true (g_bytes_equal (((VoipdOutboxEntry *) g_ptr_array_index (entries, 1))->voice,
                                voice));
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* Remove the newest and the oldest; unknown ids are no error. */
  g_assert_true (voipd_cache_outbox_remove (f->cache, id3, &error));
  g_assert_no_error (error);
  g_assert_true (voipd_cache_outbox_remove (f->cache, id1, &error));
  g_assert_no_error (error);
  g_assert_true (voipd_cache_outbox_remove (f->cache, 999, &error));
  g_assert_no_error (error);
  entries = outbox_list (f->cache);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpint (((VoipdOutboxEntry *) g_ptr_array_index (entries, 0))->local_id, ==, id2);
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* A removed id is never handed out again, so ids stay in queue order. */
  {
    g_autoptr(VoipdOutboxEntry) fourth = new_entry ("c-4", "bob", 0, "four", NULL);

    g_assert_cmpint (outbox_add (f->cache, fourth), >, id3);
    /* And a removed client_id may be queued again. */
    g_assert_cmpint (outbox_add (f->cache, again), >, fourth->local_id);
  }
}

/* ---- reset ------------------------------------------------------------ */

static void
test_reset (Fixture *f, gconstpointer data)
{
  const char *const members[] = { "alice", "bob", NULL };
  g_autoptr(VoipdOutboxEntry) entry = new_entry ("c-1", "bob", 0, "queued", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(VoipdCachedMessage) message = NULL;
  g_autofree char *username = NULL;
  g_autofree char *count = NULL;

  g_assert_true (voipd_cache_set_meta (f->cache, "username", "alice", &error));
  g_assert_no_error (error);
  g_assert_true (voipd_cache_raise_last_seq (f->cache, 77, &error));
  g_assert_no_error (error);
  put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_FRIEND);
  put_group (f->cache, 3, "band", "alice", members);
  add_unread (f->cache, "bob", 0, 2);
  add_unread (f->cache, "erin", 0, 2);
  put_message (f->cache, 1, "alice", "bob", 0, "hi");
  put_message (f->cache, 2, "alice", "", 3, "hi all");
  outbox_add (f->cache, entry);

  g_assert_true (voipd_cache_reset (f->cache, &error));
  g_assert_no_error (error);

  username = voipd_cache_get_meta (f->cache, "username");
  g_assert_null (username);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 0);
  contacts = list_contacts (f->cache);
  g_assert_cmpuint (contacts->len, ==, 0);
  groups = list_groups (f->cache);
  g_assert_cmpuint (groups->len, ==, 0);
  entries = outbox_list (f->cache);
  g_assert_cmpuint (entries->len, ==, 0);
  message = cache_get_message (f->cache, 1, &error);
  g_assert_no_error (error);
  g_assert_null (message);
  assert_history (f->cache, NULL, NULL, 3, 0, 10, "");

  /* Every table, including those the API cannot list (members, unread). */
  g_clear_object (&f->cache);
  count = raw_query_text (f->path,
                          "SELECT (SELECT count(*) FROM meta) + (SELECT count(*) FROM contacts)"
                          " + (SELECT count(*) FROM chat_groups)"
                          " + (SELECT count(*) FROM group_members)"
                          " + (SELECT count(*) FROM unread) + (SELECT count(*) FROM messages)"
                          " + (SELECT count(*) FROM outbox)");
  g_assert_cmpstr (count, ==, "0");

  /* The next account starts from a usable cache. */
  f->cache = open_cache (f->path);
  put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_FRIEND);
  g_assert_cmpuint (contact_unread (f->cache, "bob"), ==, 0);
}

/* What the server sends can be nonsense: a message or group id that is no
 * id (0, or above 2^63), an empty username, a message to nobody. The cache
 * answers an error, not a critical, and stores nothing. */
static void
test_bad_input (Fixture *f, gconstpointer data)
{
  static const gint64 bad_ids[] = { 0, G_MININT64, -1 };
  static const char *const members[] = { "alice", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GPtrArray) groups = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autoptr(VoipdCachedMessage) stored = NULL;
      VoipdCachedMessage message = {
        .id = bad_ids[i], .seq = 1, .sender = (char *) "bob", .recipient = (char *) "alice",
        .kind = VOIP_MESSAGE_KIND_TEXT, .text = (char *) "hi",
      };
      gboolean is_new = FALSE;

      g_assert_false (cache_put_message (f->cache, &message, &is_new, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_false (is_new);
      g_clear_error (&error);
      stored = cache_get_message (f->cache, bad_ids[i], &error);
      g_assert_no_error (error);
      g_assert_null (stored);

      g_assert_false (voipd_cache_put_group (f->cache, bad_ids[i], "Team", "alice", members,
                                             &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_clear_error (&error);
    }

  g_assert_false (voipd_cache_put_contact (f->cache, "", "Nobody", "", VOIP_SUBSCRIPTION_FRIEND,
                                           &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A conversation is a peer or a group: neither, or both, is no conversation. */
  g_assert_false (voipd_cache_add_unread (f->cache, "", 0, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (voipd_cache_add_unread (f->cache, "bob", 7, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (voipd_cache_clear_unread (f->cache, NULL, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  contacts = voipd_cache_list_contacts (f->cache, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (contacts->len, ==, 0);
  groups = voipd_cache_list_groups (f->cache, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (groups->len, ==, 0);
}

/* ---- batches, durability, the cache thread ------------------------------------ */

static VoipdCachedMessage *
text_message (gint64 id, const char *sender, const char *recipient)
{
  VoipdCachedMessage *m = g_new0 (VoipdCachedMessage, 1);

  m->id = id;
  m->seq = id;
  m->timestamp_ms = 1000 + id;
  m->sender = g_strdup (sender);
  m->recipient = g_strdup (recipient);
  m->kind = VOIP_MESSAGE_KIND_TEXT;
  m->text = g_strdup_printf ("message %" G_GINT64_FORMAT, id);
  return m;
}

/* A sync page of 500 messages with their position and unread counts is one
 * commit (the daemon did three per message before). */
static void
test_batch_one_transaction (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint commits = voipd_cache_get_commits (f->cache);

  voipd_cache_hold (f->cache);
  for (gint64 id = 1; id <= 500; id++)
    {
      g_autoptr(VoipdCachedMessage) m = text_message (id, "bob", "alice");

      g_assert_true (voipd_cache_put_message (f->cache, m, &error));
      g_assert_true (voipd_cache_raise_last_seq (f->cache, id, &error));
      add_unread (f->cache, "bob", 0, 1);
    }
  voipd_cache_sync_async (f->cache, FALSE, NULL, on_done, &result);
  voipd_cache_release (f->cache);
  g_assert_true (voipd_cache_sync_finish (f->cache, wait_result (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (voipd_cache_get_commits (f->cache) - commits, ==, 1);

  /* All of it is there, in memory and on disk. */
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 500);
  g_clear_object (&f->cache);
  f->cache = open_cache (f->path);
  g_assert_cmpint (voipd_cache_get_last_seq (f->cache), ==, 500);
  {
    g_autoptr(GPtrArray) page = history (f->cache, "alice", "bob", 0, 0, 500);
    g_autoptr(GPtrArray) contacts = NULL;

    g_assert_cmpuint (page->len, ==, 500);
    put_contact (f->cache, "bob", "Bob", VOIP_SUBSCRIPTION_FRIEND);
    contacts = voipd_cache_list_contacts (f->cache, &error);
    g_assert_cmpuint (((VoipdCachedContact *) contacts->pdata[0])->unread, ==, 500);
  }
}

/* Received messages go to disk without an fsync (synchronous=NORMAL: the
 * server sends them again); an outbox entry is synced before it is
 * reported queued (FULL: the user believes it sent). */
static void
test_outbox_durable (Fixture *f, gconstpointer data)
{
  g_autoptr(VoipdOutboxEntry) entry = new_entry ("c-1", "bob", 0, "typed offline", NULL);
  g_autoptr(GError) error = NULL;
  gint before;

  cache_sync (f->cache);
  before = g_atomic_int_get (&syncs);
  voipd_cache_hold (f->cache);
  for (gint64 id = 1; id <= 200; id++)
    {
      g_autoptr(VoipdCachedMessage) m = text_message (id, "bob", "alice");

      g_assert_true (voipd_cache_put_message (f->cache, m, &error));
    }
  voipd_cache_release (f->cache);
  cache_sync (f->cache);
  g_assert_cmpint (g_atomic_int_get (&syncs) - before, ==, 0);

  before = g_atomic_int_get (&syncs);
  outbox_add (f->cache, entry);
  g_assert_cmpint (g_atomic_int_get (&syncs) - before, >=, 1);

  /* Back to NORMAL after it. */
  before = g_atomic_int_get (&syncs);
  put_message (f->cache, 1000, "bob", "alice", 0, "after");
  cache_sync (f->cache);
  g_assert_cmpint (g_atomic_int_get (&syncs) - before, ==, 0);
}

static void
on_done_here (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GMainContext **context = user_data;

  /* Dispatched by the caller's context, on the caller's thread. */
  g_assert_true (g_main_context_is_owner (*context));
  g_assert_true (g_main_context_get_thread_default () == *context);
  *context = NULL;
}

/* Results come back on the thread-default context of the caller, not on
 * the global default one, nor on the cache thread. */
static void
test_thread_main_context (Fixture *f, gconstpointer data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GMainContext *slot = context;
  g_autoptr(VoipdCachedMessage) m = text_message (7, "bob", "alice");
  gint64 deadline;

  g_main_context_push_thread_default (context);
  voipd_cache_put_message_async (f->cache, m, NULL, on_done_here, &slot);
  g_main_context_pop_thread_default (context);

  /* The global default context never runs it... */
  cache_sync (f->cache);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (slot == context);

  /* ...the caller's does. */
  g_main_context_push_thread_default (context);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (slot != NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_assert_null (slot);
}

static void
on_counted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  guint *count = user_data;

  g_assert_true (voipd_cache_put_message_finish (VOIPD_CACHE (source), result, NULL, NULL));
  (*count)++;
}

/* At shutdown every pending result is delivered (each holds references
 * the daemon must drop before it exits). */
static void
test_thread_flush (Fixture *f, gconstpointer data)
{
  guint count = 0;

  for (gint64 id = 1; id <= 3; id++)
    {
      g_autoptr(VoipdCachedMessage) m = text_message (id, "bob", "alice");

      voipd_cache_put_message_async (f->cache, m, NULL, on_counted, &count);
    }
  voipd_cache_flush (f->cache);
  g_assert_cmpuint (count, ==, 3);
}

static gboolean
on_idle_count (gpointer user_data)
{
  guint *count = user_data;

  (*count)++;
  return G_SOURCE_CONTINUE;
}

/* Another process holds the write lock (a backup, sqlite3 by hand, a disk
 * that stalls): the main loop goes on running while the cache thread
 * waits, and the write lands once the lock is free. */
static void
test_thread_locked_file (Fixture *f, gconstpointer data)
{
  g_autoptr(VoipdCachedMessage) m = text_message (9, "bob", "alice");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *other = NULL;
  gboolean is_new = FALSE;
  guint idles = 0;
  guint idle;

  cache_sync (f->cache);
  g_assert_cmpint (sqlite3_open (f->path, &other), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);

  voipd_cache_put_message_async (f->cache, m, NULL, on_done, &result);
  idle = g_idle_add (on_idle_count, &idles);
  while (idles < 200)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (idle);
  /* The loop ran while the write waited for the lock. */
  g_assert_null (result);

  g_assert_cmpint (sqlite3_exec (other, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (other);
  g_assert_true (voipd_cache_put_message_finish (f->cache, wait_result (&result), &is_new,
                                                 &error));
  g_assert_no_error (error);
  g_assert_true (is_new);
}

/* ---- main ------------------------------------------------------------- */

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  register_counting_vfs ();

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

  ADD ("/cache/open/creates", test_open_creates);
  ADD ("/cache/open/reopen", test_open_reopen);
  ADD ("/cache/open/too-new", test_open_too_new);
  ADD ("/cache/open/not-a-database", test_open_not_a_database);
  ADD ("/cache/open/folder-fails", test_open_folder_fails);
  ADD ("/cache/meta", test_meta);
  ADD ("/cache/last-seq", test_last_seq);
  ADD ("/cache/contacts", test_contacts);
  ADD ("/cache/groups", test_groups);
  ADD ("/cache/unread", test_unread);
  ADD ("/cache/messages/put", test_messages_put);
  ADD ("/cache/messages/get-unknown", test_messages_get_unknown);
  ADD ("/cache/bad-input", test_bad_input);
  ADD ("/cache/messages/history-direct", test_history_direct);
  ADD ("/cache/messages/history-group", test_history_group);
  ADD ("/cache/outbox", test_outbox);
  ADD ("/cache/reset", test_reset);
  ADD ("/cache/batch/one-transaction", test_batch_one_transaction);
  ADD ("/cache/outbox/durable", test_outbox_durable);
  ADD ("/cache/thread/main-context", test_thread_main_context);
  ADD ("/cache/thread/locked-file", test_thread_locked_file);
  ADD ("/cache/thread/flush", test_thread_flush);

#undef ADD

  return g_test_run ();
}
