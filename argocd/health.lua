-- Argo CD health for every coffer.dev kind (BackupVault, ProviderConfig, ...).
-- coffer reports two standard conditions: Ready (the cloud object exists and
-- is usable) and Synced (the last reconcile made it match the spec). Argo CD
-- runs this under Lua 5.1 with only the base, table and package libraries.
local hs = { status = "Progressing", message = "Waiting for coffer to report status" }

-- Synced=False with these reasons is coffer retrying on its own, not a fault
-- that needs a person.
local transient = {
  Throttled = true,
  ProviderUnavailable = true,
  Conflict = true,
  KubernetesError = true,
  Deleting = true,
}
-- Ready=False with these reasons is work in progress.
local pending = { Creating = true, Deleting = true, Pending = true, DeletionBlocked = true }
-- BackupShare: waiting on the other side (the owner sharing, the receiver's
-- vault becoming Ready) or on CBR finishing the backup.
pending.ShareNotVisible = true
pending.WaitingForVault = true
pending.BackupNotAvailable = true
-- BackupVault on Commvault: the job that installs the S3 endpoints is running.
pending.EndpointJobRunning = true

if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= nil and obj.status.observedGeneration < generation then
  hs.message = "Waiting for coffer to reconcile generation " .. generation
  return hs
end

local ready, synced
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then ready = c end
  if c.type == "Synced" then synced = c end
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason or ""
end

-- Paused by the coffer.dev/paused annotation: the user's choice.
if synced ~= nil and synced.status == "False" and synced.reason == "ReconcilePaused" then
  hs.status = "Suspended"
  hs.message = describe(synced)
  return hs
end
if synced ~= nil and synced.status == "False" then
  if transient[synced.reason] then
    hs.status = "Progressing"
  else
    hs.status = "Degraded"
  end
  hs.message = describe(synced)
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
if ready ~= nil and ready.status == "False" then
  if pending[ready.reason] then
    hs.status = "Progressing"
  else
    hs.status = "Degraded"
  end
  hs.message = describe(ready)
  return hs
end
hs.message = "Waiting for the Ready condition"
return hs
