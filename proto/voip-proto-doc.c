/* voip-proto-doc — prints the catalogue-derived tables of PROTOCOL.md.
 *
 * The spec's message list is this program's output pasted between the
 * "catalogue:begin" and "catalogue:end" markers; a unit test keeps them equal. */
#include <stdio.h>

#include "voip-proto.h"

static void
print_payload (const char *label, const char *type, const char *fields)
{
  if (type == NULL)
    return;
  printf ("  %s `%s`%s%s", label, type, *fields ? " " : "", fields);
}

int
main (void)
{
  printf ("| code | name | login | payloads |\n");
  printf ("|-----:|------|:-----:|----------|\n");
  for (const VoipMessageSpec *row = voip_catalogue; row->name != NULL; row++)
    {
      printf ("| %u | %s | %s |", row->code, row->name,
              row->request_type == NULL ? "event"
              : (row->flags & VOIP_SPEC_NEEDS_LOGIN) ? "yes"
              : (row->flags & VOIP_SPEC_ANONYMOUS) ? "before" : "any");
      print_payload ("request", row->request_type, row->request_fields);
      print_payload ("→ reply", row->reply_type, row->reply_fields);
      print_payload ("event", row->event_type, row->event_fields);
      printf (" — %s |\n", row->summary);
    }
  printf ("\n| status | name | meaning |\n");
  printf ("|-------:|------|---------|\n");
  for (const VoipStatusInfo *row = voip_status_table; row->name != NULL; row++)
    printf ("| %u | %s | %s |\n", row->status, row->name, row->message);
  return 0;
}
