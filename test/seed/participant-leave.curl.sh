curl --request POST \
  --header "Content-Type: application/json" \
  --url https://api.digitalsamba.com/api/v1/rooms/45d125d8-bac9-43a5-a6a8-311a5433239d/phone-participants/left\
  --user YOUR_TEAM_ID:YOUR_DEVELOPER_KEY \
  --data '["53858671-c5e0-441a-9e33-e5d7f7f1861e","074f23f1-6a8e-4856-8779-5cc888456d5c"]'
