-- Shared by the scenarios that reserve: each thread keeps the holds its reservations returned, and commits one
-- as its next request (POST /reservations/{id}/commit), so that every hold is committed by the thread that made it.
local held = {}

function next_commit(headers)
  local hold = table.remove(held)
  if hold then
    return wrk.format("POST", "/api/v1/usage/" .. hold.org .. "/reservations/" .. hold.id .. "/commit", headers, "{}")
  end
end

-- Wraps the shared response counter: a 201 (a reservation made) is kept to be committed.
function keeping_holds(count)
  return function(status, headers, body)
    if status == 201 then
      local id, org = body:match('"reservationId":"([^"]+)","orgId":"([^"]+)"')
      if id then table.insert(held, { id = id, org = org }) end
    end
    count(status, headers, body)
  end
end
